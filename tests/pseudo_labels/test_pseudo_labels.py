import functools

import cv2
import numpy as np
import pytest
from PIL import Image

import mmadv  # noqa: F401
from mmadv.evaluation.map_metrics import labels_from_maps
from mmadv.pseudo_labels.map_io import map_path, save_maps
from mmadv.pseudo_labels.pseudo_labels import (PseudoLabelJob, list_map_names,
                                               make_pseudo_label,
                                               read_label_png, save_label_png,
                                               voc_palette)
from mmseg.datasets import PascalVOCDataset
from mmseg.datasets.transforms import LoadAnnotations

# classes 4 (bottle, label 5) and 11 (dog, label 12)
CLASSES = np.array([4, 11])
# yapf: disable
MAPS = np.array([[[0.10, 0.20, 0.30, 0.90],
                  [0.05, 0.45, 0.35, 0.00]],
                 [[0.15, 0.10, 0.40, 0.20],
                  [0.00, 0.50, 0.30, 0.60]]], np.float32)
# yapf: enable


def random_case(seed, num_classes=2, size=(9, 11)):
    rng = np.random.default_rng(seed)
    classes = rng.choice(20, num_classes, replace=False)
    maps = rng.random((num_classes, ) + size).astype(np.float32)
    image = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
    return classes, maps, image


def test_default_is_labels_from_maps():
    classes, maps, _ = random_case(0, 3)
    for threshold in (0.2, 0.5, 0.8):
        np.testing.assert_array_equal(
            make_pseudo_label(classes, maps, threshold),
            labels_from_maps(classes, maps, threshold))


def test_uncertain_band_by_hand():
    # highest maps: [[.15 .20 .40 .90], [.05 .50 .35 .60]]
    label = make_pseudo_label(CLASSES, MAPS, 0.99, uncertain=(0.2, 0.45))
    np.testing.assert_array_equal(label, [[0, 255, 255, 5], [0, 12, 255, 12]])
    assert label.dtype == np.uint8
    # an empty band is plain thresholding at ``high``
    np.testing.assert_array_equal(
        make_pseudo_label(CLASSES, MAPS, 0.99, uncertain=(0.4, 0.4)),
        labels_from_maps(CLASSES, MAPS, 0.4))
    with pytest.raises(ValueError, match='low <= high'):
        make_pseudo_label(CLASSES, MAPS, 0.3, uncertain=(0.5, 0.2))


def test_crf_labels_stay_in_the_allowed_set():
    classes, maps, image = random_case(1, 2, (24, 32))
    label = make_pseudo_label(classes, maps, 0.3, crf=dict(), image=image)
    assert label.shape == (24, 32)
    assert label.dtype == np.uint8
    assert set(np.unique(label)) <= {0, *(classes + 1)}
    banded = make_pseudo_label(
        classes, maps, 0.3, uncertain=(0.4, 0.6), crf=dict(), image=image)
    assert set(np.unique(banded)) <= {0, 255, *(classes + 1)}
    band = (maps.max(0) >= 0.4) & (maps.max(0) < 0.6)
    assert band.any() and not band.all()
    assert (banded[band] == 255).all()
    np.testing.assert_array_equal(banded[~band], label[~band])


def test_crf_starts_from_the_thresholded_label():
    classes, maps, image = random_case(2, 3)
    maps = maps.round(1)  # ties between maps and with the threshold
    for threshold in (0.3, 0.5):
        np.testing.assert_array_equal(
            make_pseudo_label(
                classes, maps, threshold, crf=dict(t=0), image=image),
            labels_from_maps(classes, maps, threshold))


def test_no_class_is_background():
    maps = np.zeros((0, 3, 4), np.float32)
    image = np.zeros((3, 4, 3), np.uint8)
    for crf in (None, dict()):
        label = make_pseudo_label([], maps, 0.3, crf=crf, image=image)
        np.testing.assert_array_equal(label, np.zeros((3, 4)))
    with pytest.raises(ValueError, match='image'):
        make_pseudo_label(CLASSES, MAPS, 0.3, crf=dict())


def test_png_reads_back_through_mmseg(tmp_path):
    label = np.array([[0, 5, 12], [255, 20, 1]], np.uint8)
    path = tmp_path / 'sub' / 'x.png'
    save_label_png(str(path), label)
    assert [p.name for p in path.parent.iterdir()] == ['x.png']
    results = LoadAnnotations()(
        dict(seg_map_path=str(path), reduce_zero_label=False, seg_fields=[]))
    np.testing.assert_array_equal(results['gt_seg_map'], label)
    with Image.open(path) as png:
        assert png.mode == 'P'
        palette = np.array(png.getpalette()).reshape(-1, 3)
    voc = np.array(PascalVOCDataset.METAINFO['palette'])
    np.testing.assert_array_equal(palette[:21], voc)
    np.testing.assert_array_equal(palette[255], (224, 224, 192))
    assert len(voc_palette()) == 768
    np.testing.assert_array_equal(read_label_png(str(path)), label)
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        save_label_png(str(path), label[None])


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


def test_job_writes_and_scores(tmp_path):
    for folder in ('maps', 'img', 'out', 'gt'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    cv2.imwrite(str(tmp_path / 'img' / 'x.jpg'), np.zeros((2, 4, 3), np.uint8))
    gt = np.array([[0, 5, 5, 5], [255, 12, 0, 0]], np.uint8)
    cv2.imwrite(str(tmp_path / 'gt' / 'x.png'), gt)
    job = PseudoLabelJob(
        str(tmp_path / 'maps'),
        str(tmp_path / 'img'),
        str(tmp_path / 'out'),
        functools.partial(make_pseudo_label, bg_threshold=0.3),
        gt_dir=str(tmp_path / 'gt'))
    result = job('x')
    label = np.array([[0, 0, 12, 5], [0, 12, 5, 12]])
    np.testing.assert_array_equal(
        read_label_png(str(tmp_path / 'out' / 'x.png')), label)
    assert result['written'] and result['num_valid'] == 7
    assert result['num_labelled'] == 7
    conf = result['confusion']
    assert conf.sum() == 7
    assert conf[0, 0] == 1 and conf[5, 0] == 1 and conf[0, 5] == 1
    assert conf[12, 12] == 1 and conf[5, 12] == 1 and conf[0, 12] == 1
    assert conf[5, 5] == 1
    again = job('x')
    assert not again['written']
    np.testing.assert_array_equal(again['confusion'], conf)


def test_job_input_errors(tmp_path):
    for folder in ('maps', 'img', 'out'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    job = PseudoLabelJob(
        str(tmp_path / 'maps'), str(tmp_path / 'img'), str(tmp_path / 'out'),
        functools.partial(make_pseudo_label, bg_threshold=0.3))
    img_path = tmp_path / 'img' / 'x.jpg'
    with pytest.raises(FileNotFoundError, match=f'image {img_path} not'):
        job('x')
    img_path.write_bytes(b'not a jpeg')
    with pytest.raises(ValueError, match=f'cannot decode image {img_path}'):
        job('x')
    cv2.imwrite(str(img_path), np.zeros((3, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r'map size \(2, 4\) .* \(3, 4\)'):
        job('x')
    with pytest.raises(FileNotFoundError, match=r'y\.npz'):
        job('y')
    assert list((tmp_path / 'out').iterdir()) == []
