"""Map files and map folders: round trip, image lists, errors."""
import numpy as np
import pytest

import mmadv  # noqa: F401
from mmadv.pseudo_labels import (list_map_names, load_maps, map_path,
                                 read_meta, save_maps, write_meta)


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


def test_read_meta_checks_the_split(tmp_path):
    with pytest.raises(FileNotFoundError, match='map folder .* not found'):
        read_meta(str(tmp_path / 'none'))
    with pytest.raises(FileNotFoundError, match='meta.json not found'):
        read_meta(str(tmp_path))
    write_meta(str(tmp_path), split='val', num_images=2)
    assert read_meta(str(tmp_path), 'val')['num_images'] == 2
    with pytest.raises(ValueError, match="split 'val', not 'train_aug'"):
        read_meta(str(tmp_path), 'train_aug')
