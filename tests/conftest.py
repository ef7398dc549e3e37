"""Shared fixtures: a tiny, deterministic PASCAL VOC tree.

Other test files get the tree from the ``tiny_voc`` fixture, or make a
variant with ``from conftest import make_tiny_voc``.
"""
import pathlib
from typing import Tuple, Union

import cv2
import numpy as np
import pytest
from mmengine.visualization import Visualizer

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle',
               'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
               'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')
VOC_PALETTE = ((0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128),
               (128, 0, 128), (0, 128, 128), (128, 128, 128), (64, 0, 0),
               (192, 0, 0), (64, 128, 0), (192, 128, 0), (64, 0, 128),
               (192, 0, 128), (64, 128, 128), (192, 128, 128), (0, 64, 0),
               (128, 64, 0), (0, 192, 0), (128, 192, 0), (0, 64, 128))


def voc_xml(name: str, size: Tuple[int, int], objects: list) -> str:
    """VOC XML annotation text.

    Args:
        name (str): Image name without suffix.
        size (tuple[int, int]): Image ``(H, W)``.
        objects (list[tuple[str, tuple]]): ``(class name, (x1, y1, x2,
            y2))`` with 0-based inclusive corners.

    Returns:
        str: The ``<annotation>`` document (VOC boxes are 1-based).
    """
    height, width = size
    parts = [
        '<annotation>', '<folder>VOC2012</folder>',
        f'<filename>{name}.jpg</filename>',
        f'<size><width>{width}</width><height>{height}</height>'
        '<depth>3</depth></size>', '<segmented>1</segmented>'
    ]
    for cls_name, (x1, y1, x2, y2) in objects:
        parts.append(
            f'<object><name>{cls_name}</name><pose>Unspecified</pose>'
            '<truncated>0</truncated><difficult>0</difficult>'
            f'<bndbox><xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin>'
            f'<xmax>{x2 + 1}</xmax><ymax>{y2 + 1}</ymax></bndbox></object>')
    parts.append('</annotation>')
    return '\n'.join(parts) + '\n'


def make_tiny_voc(root: Union[str, pathlib.Path],
                  num_images: int = 6,
                  size: Tuple[int, int] = (48, 64),
                  seed: int = 0) -> pathlib.Path:
    """Write a tiny VOC2012-style tree under ``root``.

    Image ``i`` (named ``2007_00000i``) holds ``1 + i % 2`` foreground
    classes drawn without replacement, each a rectangle of its VOC palette
    colour in its own vertical strip, on a grey noisy background.
    Written files:

    - ``JPEGImages/<name>.jpg``: BGR, ``size`` = ``(H, W)``.
    - ``SegmentationClassAug/<name>.png``: single-channel uint8, 0 for
      background, ``c + 1`` inside the rectangle of foreground class ``c``,
      255 on the rectangle's outermost pixels (as VOC's boundaries).
    - ``Annotations/<name>.xml``: one ``<object>`` per rectangle.
    - ``ImageSets/Segmentation/{train_aug,val,trainval}.txt``: the last
      ``max(1, num_images // 3)`` images are ``val``, the others
      ``train_aug``.
    - ``cls_labels.npy``: PSA's format, a dict ``name -> float32 (20,)``
      multi-hot, the ground truth of the tree.

    Args:
        root (str | Path): Folder to write into (created).
        num_images (int): Number of images, at least 2. Defaults to 6.
        size (tuple[int, int]): Image ``(H, W)``, at least ``(16, 32)``.
            Defaults to ``(48, 64)``.
        seed (int): Seed of the class choice, boxes and noise.
            Defaults to 0.

    Returns:
        Path: ``root``.
    """
    root = pathlib.Path(root)
    for folder in ('JPEGImages', 'SegmentationClassAug', 'Annotations',
                   'ImageSets/Segmentation'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    height, width = size
    names, cls_labels = [], {}
    for i in range(num_images):
        name = f'2007_{i:06d}'
        img = rng.normal(110., 25., (height, width, 3))
        mask = np.zeros((height, width), np.uint8)
        fg_classes = rng.choice(20, size=1 + i % 2, replace=False)
        strip = width // len(fg_classes)
        objects = []
        for j, fg in enumerate(fg_classes):
            x1 = j * strip + int(rng.integers(0, strip // 4 + 1))
            x2 = (j + 1) * strip - 1 - int(rng.integers(0, strip // 4 + 1))
            y1 = int(rng.integers(0, height // 4 + 1))
            y2 = height - 1 - int(rng.integers(0, height // 4 + 1))
            bgr = np.array(VOC_PALETTE[fg + 1][::-1], np.float64)
            box = (slice(y1, y2 + 1), slice(x1, x2 + 1))
            img[box] = bgr + rng.normal(0., 8., img[box].shape)
            mask[box] = 255
            mask[y1 + 1:y2, x1 + 1:x2] = fg + 1
            objects.append((VOC_CLASSES[fg + 1], (x1, y1, x2, y2)))
        img = np.clip(img, 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'), img)
        cv2.imwrite(str(root / 'SegmentationClassAug' / f'{name}.png'), mask)
        (root / 'Annotations' / f'{name}.xml').write_text(
            voc_xml(name, size, objects))
        labels = np.zeros(20, np.float32)
        labels[fg_classes] = 1.
        cls_labels[name] = labels
        names.append(name)
    num_val = max(1, num_images // 3)
    splits = dict(
        train_aug=names[:-num_val], val=names[-num_val:], trainval=names)
    for split, split_names in splits.items():
        lines = ''.join(f'{n}\n' for n in split_names)
        (root / 'ImageSets/Segmentation' / f'{split}.txt').write_text(lines)
    np.save(root / 'cls_labels.npy', cls_labels)
    return root


@pytest.fixture(scope='session')
def tiny_voc(tmp_path_factory) -> pathlib.Path:
    """A read-only tiny VOC tree (``make_tiny_voc`` defaults), shared by the
    session; tests that write into a tree make their own."""
    return make_tiny_voc(tmp_path_factory.mktemp('tiny_voc'))


def _subclasses(cls: type) -> list:
    """``cls`` and all its subclasses, recursively."""
    return [cls] + [
        c for sub in cls.__subclasses__() for c in _subclasses(sub)
    ]


@pytest.fixture(autouse=True)
def forget_visualizers():
    """mmseg's runtime names every visualizer ``'visualizer'``, so each Runner
    in one process gets the first one back, still saving into the first
    test's work dir (deleted once that test passes). Forget them after each
    test, as a new process would."""
    yield
    for cls in _subclasses(Visualizer):
        cls._instance_dict.clear()
