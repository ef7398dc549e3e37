"""Label PNGs and images on disk.

A label is an ``(H, W)`` uint8 array in VOC's label space: 0 for
background, ``c + 1`` for foreground class ``c``, 255 for pixels to ignore
in training. It is saved as a palette PNG like VOC's ``SegmentationClass``
masks, so mmseg's ``LoadAnnotations`` reads back the labels and an image
viewer shows VOC's colours.
"""
import os.path as osp
from typing import List

import cv2
import numpy as np
from mmseg.datasets import PascalVOCDataset
from PIL import Image

from ..utils.atomic import atomic_path
from ..utils.errors import InputError, MissingInputError
from .labeling import IGNORE_INDEX

IGNORE_COLOR = (224, 224, 192)  # VOC's colour of its 255 boundaries


def voc_palette() -> List[int]:
    """The flat 768-entry palette of the label PNGs: mmseg's
    ``PascalVOCDataset.METAINFO['palette']`` for labels 0..20, VOC's
    boundary colour for 255, black for the rest."""
    palette = np.zeros((256, 3), np.uint8)
    voc = PascalVOCDataset.METAINFO['palette']
    palette[:len(voc)] = voc
    palette[IGNORE_INDEX] = IGNORE_COLOR
    return palette.reshape(-1).tolist()


def colour_labels(label: np.ndarray) -> np.ndarray:
    """``(H, W)`` labels to ``(H, W, 3)`` uint8 colours of
    :func:`voc_palette`."""
    palette = np.asarray(voc_palette(), np.uint8).reshape(256, 3)
    return palette[label]


def save_label_png(path: str, label: np.ndarray) -> None:
    """Write ``(H, W)`` labels 0..255 as a palette ('P') PNG with
    :func:`voc_palette`, atomically."""
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'{path}: a label must be (H, W), got '
                         f'{label.shape}')
    if label.dtype != np.uint8:
        if label.size and (label.min() < 0 or label.max() > 255):
            raise ValueError(f'{path}: labels outside 0..255')
        label = label.astype(np.uint8)
    png = Image.fromarray(label)
    png.putpalette(voc_palette())
    with atomic_path(path) as tmp:
        png.save(tmp)


def read_label_png(path: str) -> np.ndarray:
    """The ``(H, W)`` labels of a mask PNG as stored (palette indices of a
    'P' PNG, as mmseg's ``LoadAnnotations`` reads them).

    Raises:
        MissingInputError: No such file.
        InputError: It does not decode, or is not single-channel.
    """
    if not osp.isfile(path):
        raise MissingInputError(f'label PNG {path} not found')
    try:
        with Image.open(path) as png:
            label = np.array(png)
    except OSError as e:
        raise InputError(f'cannot decode {path} ({e})') from None
    if label.ndim != 2:
        raise InputError(f'{path} is not a single-channel label PNG '
                         f'(shape {label.shape})')
    return label


def read_rgb_image(path: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB, decoded by OpenCV as mmseg's
    ``LoadImageFromFile`` does by default.

    Raises:
        MissingInputError: No such file.
        InputError: It does not decode.
    """
    if not osp.isfile(path):
        raise MissingInputError(f'image {path} not found')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f'cannot decode image {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
