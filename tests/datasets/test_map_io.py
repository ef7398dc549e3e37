"""Map files and map folders: round trip, image lists, errors."""
import os.path as osp

import numpy as np
import pytest

import mmadv  # noqa: F401
from mmadv.apis import InputError
from mmadv.datasets import (list_map_names, load_maps, map_path, read_meta,
                            save_maps, write_meta)


def test_list_map_names(tmp_path):
    maps = np.zeros((1, 2, 2), np.float32)
    for name in ('b', 'a', 'c'):
        save_maps(map_path(str(tmp_path), name), [0], maps)
    (tmp_path / '.d.tmp12.npz').write_bytes(b'')
    ann_file = tmp_path / 'list.txt'
    ann_file.write_text('c\n\na\n')
    names, source = list_map_names(str(tmp_path), dict(ann_file=str(ann_file)))
    assert names == ['c', 'a'] and source == str(ann_file)
    names, source = list_map_names(
        str(tmp_path), dict(ann_file=str(tmp_path / 'moved.txt')))
    assert names == ['a', 'b', 'c'] and source == str(tmp_path)
    ann_file.write_text('a\ne\n')
    with pytest.raises(FileNotFoundError, match=r'1 of the 2 .*e\.npz'):
        list_map_names(str(tmp_path), dict(ann_file=str(ann_file)))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no maps'):
        list_map_names(str(tmp_path / 'empty'), {})


def test_map_file_round_trip_and_errors(tmp_path):
    maps = np.array([[[0.25, 0.5], [0.75, 1.0]]], np.float32)
    path = map_path(str(tmp_path), 'x')
    save_maps(path, [3], maps)
    classes, loaded = load_maps(path)
    assert classes.dtype == np.int64 and classes.tolist() == [3]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, maps)  # exact in float16
    with pytest.raises(ValueError, match='K = 2'):
        save_maps(path, [3, 4], maps)
    with pytest.raises(FileNotFoundError, match='y.npz'):
        load_maps(map_path(str(tmp_path), 'y'))
    (tmp_path / 'bad.npz').write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='bad.npz is not an attention map'):
        load_maps(str(tmp_path / 'bad.npz'))
    # a file cut short (a disk full, a copy stopped): named, one line
    (tmp_path / 'cut.npz').write_bytes(open(path, 'rb').read()[:-20])
    with pytest.raises(InputError, match=r'cut\.npz is not an attention '
                       r'map file \(.+\)$'):
        load_maps(str(tmp_path / 'cut.npz'))


@pytest.mark.parametrize('classes,maps,match', [
    ([3], [[[np.nan, 0.5]]], '1 map values are NaN or infinite'),
    ([3], [[[np.inf, 0.5]]], '1 map values are NaN or infinite'),
    ([3], [[[1.5, 0.5]]], r'map values must be in \[0, 1\], got 0.5..1.5'),
    ([3], [[[-0.5, 0.5]]], r'in \[0, 1\], got -0.5..0.5'),
    ([25], [[[0.5, 0.5]]], r'class index 25 is not a foreground class '
     r'\(0..19\)'),
    ([-1], [[[0.5, 0.5]]], r'class index -1 is not a foreground class '
     r'\(0..19\)'),
    ([2, 2], [[[0.5, 0.5]], [[0.5, 0.5]]], 'a class appears twice'),
    ([[2]], [[[0.5, 0.5]]], r'classes must be \(K,\) integers'),
    ([0.5], [[[0.5, 0.5]]], r'classes must be \(K,\) integers'),
    ([3], [[['a', 'b']]], 'maps must be floats, got <U1'),
])
def test_map_files_out_of_the_format_are_refused(tmp_path, classes, maps,
                                                 match):
    """Written by another tool, or by an older mmadv: every reader
    refuses them in one line naming the file; the writer too, but for the
    number of classes, which only the reader knows."""
    path = str(tmp_path / 'x.npz')
    maps = np.array(maps) if isinstance(maps[0][0][0], str) else np.array(
        maps, np.float16)
    np.savez_compressed(path, classes=np.array(classes), maps=maps)
    with pytest.raises(InputError, match=match) as error:
        load_maps(path, num_classes=20)
    assert str(error.value).startswith(path) and '\n' not in str(error.value)
    other = str(tmp_path / 'y.npz')
    if classes == [25]:
        save_maps(other, classes, np.array(maps))
        assert load_maps(other)[0].tolist() == [25]
    else:
        with pytest.raises(InputError, match=match.split(r' \(0..19')[0]):
            save_maps(other, np.array(classes), maps)
        assert not osp.exists(other)


def test_read_meta_checks_the_split(tmp_path):
    with pytest.raises(FileNotFoundError, match='map folder .* not found'):
        read_meta(str(tmp_path / 'none'))
    with pytest.raises(FileNotFoundError, match='meta.json not found'):
        read_meta(str(tmp_path))
    write_meta(str(tmp_path), split='val', num_images=2)
    assert read_meta(str(tmp_path), 'val')['num_images'] == 2
    with pytest.raises(ValueError, match="split 'val', not 'train_aug'"):
        read_meta(str(tmp_path), 'train_aug')
