"""The on-disk format of a segmentation network's predictions (the
probabilities a self-training round labels from).

One compressed ``<name>.npz`` per image in a prediction folder:

* ``labels``: int64 (K,), label indices (0 background, ``c + 1`` class
  ``c``): the labels that are the most probable at one pixel or more;
* ``probs``: float16 (K, H, W) in [0, 1], their probabilities at the
  original image size.

Every pixel's most probable label and its probability are kept (a label
that wins nowhere changes neither), at a fraction of the size of all
``C`` (VOC's train_aug: 10,582 images x 21 x 500 x 375). The folder's
``meta.json`` (:func:`~.map_io.write_meta`) records ``format:
'predictions'``, the split, the checkpoint, the protocol and the data
set's classes.
"""
import os.path as osp
from typing import Tuple

import numpy as np

from ..utils.atomic import atomic_path
from ..utils.errors import InputError
from .map_io import read_npz

FORMAT = 'predictions'


def prediction_path(folder: str, name: str) -> str:
    return osp.join(folder, f'{name}.npz')


def save_prediction(path: str, probs: np.ndarray) -> None:
    """Write one image's ``(C, H, W)`` probabilities atomically, in the
    format of the module docstring."""
    probs = np.asarray(probs, np.float32)
    labels = np.unique(probs.argmax(axis=0))
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, labels=labels.astype(np.int64),
                            probs=probs[labels].astype(np.float16))


def load_prediction(path: str,
                    num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """``labels`` (K,) int64 and ``probs`` (K, H, W) float32 of one image.

    Raises:
        MissingInputError: No such file.
        InputError: It does not read, or its labels are not distinct
            labels below ``num_classes``, or its probs are not (K, H, W)
            finite values in [0, 1].
    """
    labels, probs = read_npz(path, ('labels', 'probs'),
                             'prediction not found', 'a prediction file')
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or \
            len(np.unique(labels)) != labels.size or labels.size and (
                labels.min() < 0 or labels.max() >= num_classes):
        raise InputError(f'{path}: labels must be distinct integers in '
                         f'0..{num_classes - 1}, got {labels}')
    probs = probs.astype(np.float32)
    if probs.ndim != 3 or probs.shape[0] != labels.size or not np.isfinite(
            probs).all() or probs.size and (probs.min() < 0
                                            or probs.max() > 1):
        raise InputError(f'{path}: probs must be (K, H, W) in [0, 1] with '
                         f'K = {labels.size}, got {probs.shape}')
    return labels.astype(np.int64), probs
