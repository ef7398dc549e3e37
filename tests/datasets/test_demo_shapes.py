"""The procedural demo data set: determinism, VOC layout and labels as our
VOC dataset reads them, the part/body design, and the no-op rerun."""
import filecmp
import json
import os
import pathlib

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmadv  # noqa: F401
from mmadv.datasets import ImageLabelDataset, VOCImageLabelDataset
from mmadv.datasets.demo_shapes import (DEMO_CLASSES, PART_COLOURS,
                                        TOY_OBJECTS, VOC_LABELS,
                                        generate_demo_voc, render_demo_image)
from mmadv.utils.errors import ConfigError

VOC_NAMES = ('bird', 'cat', 'cow', 'dog', 'sheep')


def tree_files(root):
    root = pathlib.Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob('*')
                  if p.is_file())


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    return generate_demo_voc(
        str(tmp_path_factory.mktemp('demo') / 'data'),
        seed=5,
        num_train=6,
        num_val=3,
        show_progress=False)


def test_voc_labels_are_the_voc_classes():
    from mmseg.datasets import PascalVOCDataset
    voc = PascalVOCDataset.METAINFO['classes']
    assert DEMO_CLASSES == VOC_NAMES
    assert [voc[i] for i in VOC_LABELS] == list(VOC_NAMES)


def test_layout_and_determinism(demo_root, tmp_path):
    files = tree_files(demo_root)
    assert 'DONE' in files
    for split, count in (('train_aug', 6), ('val', 3)):
        names = (pathlib.Path(demo_root) / 'ImageSets/Segmentation' /
                 f'{split}.txt').read_text().split()
        assert len(names) == count
        for name in names:
            for folder, suffix in (('JPEGImages', '.jpg'),
                                   ('SegmentationClass', '.png'),
                                   ('Annotations', '.xml')):
                assert f'{folder}/{name}{suffix}' in files
    # the same arguments give the same bytes; fewer images are a prefix
    again = generate_demo_voc(
        str(tmp_path / 'again'), seed=5, num_train=4, num_val=3,
        show_progress=False)
    for name in tree_files(again):
        if name.startswith(('JPEGImages', 'SegmentationClass',
                            'Annotations')):
            assert filecmp.cmp(
                os.path.join(demo_root, name),
                os.path.join(again, name),
                shallow=False), name
    other = generate_demo_voc(
        str(tmp_path / 'other'), seed=6, num_train=1, num_val=1,
        show_progress=False)
    assert not filecmp.cmp(
        os.path.join(demo_root, 'JPEGImages/train_000000.jpg'),
        os.path.join(other, 'JPEGImages/train_000000.jpg'),
        shallow=False)


def test_xml_labels_match_the_masks(demo_root):
    init_default_scope('mmseg')
    dataset = VOCImageLabelDataset(
        data_root=demo_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        label_source='xml',
        pipeline=[])
    assert len(dataset) == 6
    for info in dataset:
        mask = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        assert mask.shape == (64, 64)
        values = set(np.unique(mask).tolist())
        assert values <= {0, *VOC_LABELS} and len(values) >= 2
        labels = np.flatnonzero(np.asarray(info['img_labels'])) + 1
        assert sorted(labels.tolist()) == sorted(values - {0})


def test_part_and_body():
    for i in range(10):
        image, mask, objects = render_demo_image(
            np.random.default_rng([0, 0, i]), noise=0.)
        assert 1 <= len(objects) <= 2
        for obj in objects:
            part, body = obj['part'], obj['body']
            assert not (part & body).any()
            assert (mask[part | body] == VOC_LABELS[obj['label']]).all()
            # a small part, a larger body
            assert 0 < 2 * part.sum() < body.sum()
            # the part is the class colour (jitter at most 15)
            colour = image[part].mean(0)
            assert np.abs(colour - PART_COLOURS[obj['label']]).max() <= 15.5
        # objects are all of the mask
        union = np.zeros_like(mask, bool)
        for obj in objects:
            union |= obj['part'] | obj['body']
        assert ((mask > 0) == union).all()


def test_rerun_is_a_no_op_and_other_arguments_are_refused(demo_root):
    stamp = os.stat(os.path.join(demo_root, 'DONE')).st_mtime_ns
    assert generate_demo_voc(
        demo_root, seed=5, num_train=6, num_val=3,
        show_progress=False) == demo_root
    assert os.stat(os.path.join(demo_root, 'DONE')).st_mtime_ns == stamp
    with pytest.raises(FileExistsError, match='data'):
        generate_demo_voc(demo_root, seed=7, num_train=6, num_val=3,
                          show_progress=False)


def test_toy_objects_are_three_classes_of_their_own(tmp_path):
    root = generate_demo_voc(str(tmp_path / 'toy'), seed=0, num_train=8,
                             num_val=2, size=96, shapes='toy_objects',
                             show_progress=False)
    init_default_scope('mmseg')
    dataset = ImageLabelDataset(
        data_root=root,
        metainfo=dict(classes=('background', 'kite', 'boat', 'lamp')),
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=[])
    seen = set()
    for info in dataset:
        mask = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        assert mask.shape == (96, 96)
        values = set(np.unique(mask).tolist())
        labels = np.flatnonzero(np.asarray(info['img_labels'])) + 1
        assert sorted(labels.tolist()) == sorted(values - {0})
        seen |= values
    assert seen == {0, 1, 2, 3}
    # each class's body has its own shape: the share of its smallest
    # enclosing rectangle it fills is ~1 for the rectangle (boat), ~pi / 4
    # for the ellipse (lamp), ~1 / 2 for the diamond (kite); lower where
    # the part cuts the body's end
    fill = {name: [] for name in TOY_OBJECTS.bodies}
    for i in range(60):
        _, _, objects = render_demo_image(
            np.random.default_rng([0, 0, i]), 96, noise=0.,
            shapes=TOY_OBJECTS)
        for obj in objects:
            ys, xs = np.nonzero(obj['body'])
            _, (w, h), _ = cv2.minAreaRect(
                np.stack([xs, ys], 1).astype(np.float32))
            fill[TOY_OBJECTS.bodies[obj['label']]].append(
                obj['body'].sum() / ((w + 1) * (h + 1)))
    median = {name: np.median(v) for name, v in fill.items()}
    assert median['diamond'] < median['ellipse'] < median['rectangle']
    assert min(fill['rectangle']) > max(fill['ellipse'])
    with pytest.raises(ConfigError, match="shapes must be one of"):
        generate_demo_voc(str(tmp_path / 'x'), shapes='cars')
    # the demo's record is as it was: trees made before stay valid
    demo = generate_demo_voc(str(tmp_path / 'demo'), num_train=1, num_val=1,
                             show_progress=False)
    assert 'shapes' not in json.loads((pathlib.Path(demo) / 'DONE'
                                       ).read_text())
