"""Label PNGs and images on disk.

A label is an ``(H, W)`` uint8 array in the data set's label space: 0 for
background, ``c + 1`` for foreground class ``c``, 255 for pixels to ignore
in training. It is saved as a palette PNG like VOC's ``SegmentationClass``
masks, so mmseg's ``LoadAnnotations`` reads back the labels and an image
viewer shows the data set's colours.
"""
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmseg.datasets import PascalVOCDataset
from PIL import Image

from ..utils.atomic import atomic_path
from ..utils.errors import InputError, MissingInputError
from ..structures.labels import IGNORE_INDEX

IGNORE_COLOR = (224, 224, 192)  # VOC's colour of its 255 boundaries


def label_palette(palette: Optional[Sequence[Sequence[int]]] = None
                  ) -> List[int]:
    """The flat 768-entry palette of the label PNGs: ``palette`` (the data
    set's ``metainfo['palette']``, one ``[r, g, b]`` per label; default:
    mmseg's ``PascalVOCDataset.METAINFO['palette']``) for its labels,
    VOC's boundary colour for 255, black for the rest."""
    if palette is None:
        palette = PascalVOCDataset.METAINFO['palette']
    flat = np.zeros((256, 3), np.uint8)
    flat[:len(palette)] = palette
    flat[IGNORE_INDEX] = IGNORE_COLOR
    return flat.reshape(-1).tolist()


def colour_labels(label: np.ndarray,
                  palette: Optional[Sequence[Sequence[int]]] = None
                  ) -> np.ndarray:
    """``(H, W)`` labels to ``(H, W, 3)`` uint8 colours of
    :func:`label_palette`."""
    return np.asarray(label_palette(palette), np.uint8).reshape(256,
                                                                3)[label]


def save_label_png(path: str,
                   label: np.ndarray,
                   palette: Optional[Sequence[Sequence[int]]] = None
                   ) -> None:
    """Write ``(H, W)`` labels 0..255 as a palette ('P') PNG with
    :func:`label_palette` of ``palette``, atomically."""
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'{path}: a label must be (H, W), got '
                         f'{label.shape}')
    if label.dtype != np.uint8:
        if label.size and (label.min() < 0 or label.max() > 255):
            raise ValueError(f'{path}: labels outside 0..255')
        label = label.astype(np.uint8)
    png = Image.fromarray(label)
    png.putpalette(label_palette(palette))
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
