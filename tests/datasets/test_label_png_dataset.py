"""LabelPNGDataset: label PNGs of any classes, read as they are stored
(mmseg's PascalVOCDataset remaps a subset of VOC's classes)."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmadv  # noqa: F401
from mmadv.datasets import save_label_png

PIPELINE = [dict(type='LoadAnnotations')]


@pytest.fixture
def tree(tiny_voc, tmp_path):
    """The tiny VOC images, with labels 0, 1, 2 and 255 of their own."""
    labels = tmp_path / 'labels'
    names = (tiny_voc / 'ImageSets/Segmentation/train_aug.txt').read_text(
    ).split()
    for i, name in enumerate(names):
        label = np.zeros((48, 64), np.uint8)
        label[:, 10:20] = 1 + i % 2
        label[0] = 255
        save_label_png(str(labels / f'{name}.png'), label)
    return tiny_voc, labels, names


def build(kind, root, labels, **kwargs):
    init_default_scope('mmseg')
    return DATASETS.build(dict(
        type=kind,
        data_root=str(root),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path=str(labels)),
        pipeline=PIPELINE,
        **kwargs))


def test_any_classes_read_as_stored(tree):
    root, labels, names = tree
    own = dict(classes=('background', 'kite', 'boat'),
               palette=[[0, 0, 0], [1, 1, 1], [2, 2, 2]])
    dataset = build('LabelPNGDataset', root, labels, metainfo=own)
    assert len(dataset) == len(names)
    assert dataset.metainfo['classes'] == own['classes']
    for i in range(len(dataset)):
        gt = dataset[i]['gt_seg_map']
        assert set(np.unique(gt).tolist()) == {0, 1 + i % 2, 255}
    # VOC's names as a subset: PascalVOCDataset remaps VOC's labels
    # (bicycle 2 -> 1, aeroplane 1 -> 255); these PNGs are in the subset's
    # own labels already and read as stored
    subset = dict(classes=('background', 'bicycle'))
    ours = build('LabelPNGDataset', root, labels, metainfo=subset)
    voc = build('PascalVOCDataset', root, labels, metainfo=subset)
    for i in range(2):
        assert set(np.unique(ours[i]['gt_seg_map']).tolist()) == \
            {0, 1 + i % 2, 255}
    assert set(np.unique(voc[0]['gt_seg_map']).tolist()) == {0, 255}
    assert set(np.unique(voc[1]['gt_seg_map']).tolist()) == {0, 1, 255}
    # without classes: VOC's 21
    assert len(build('LabelPNGDataset', root, labels).metainfo['classes']) \
        == 21
