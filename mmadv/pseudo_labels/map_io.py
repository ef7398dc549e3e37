"""The on-disk format of inferred attention maps (stage 2).

One compressed ``<name>.npz`` per image in a map folder:

* ``classes``: int64 (K,), the image's foreground class indices (0-based,
  VOC: 0 = aeroplane ... 19 = tvmonitor; segmentation label = index + 1);
* ``maps``: float16 (K, H, W) in [0, 1], at the original image size.

and a ``meta.json`` describing the folder (``split``, ``ann_file``,
``num_images``, ``config``, ``checkpoint``, ``scales``, ``flip``), so that
tools refuse a folder made for another split.
"""
import json
import os.path as osp
from typing import Tuple

import numpy as np

from ..utils.atomic import atomic_path

META_FILE = 'meta.json'


def map_path(folder: str, name: str) -> str:
    return osp.join(folder, f'{name}.npz')


def save_maps(path: str, classes: np.ndarray, maps: np.ndarray) -> None:
    """Write one image's maps atomically (see the module docstring)."""
    classes = np.asarray(classes, dtype=np.int64)
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape[0] != classes.shape[0]:
        raise ValueError(f'{path}: maps must be (K, H, W) with K = '
                         f'{classes.shape[0]} classes, got {maps.shape}')
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, classes=classes,
                            maps=maps.astype(np.float16))


def load_maps(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """``classes`` (K,) int64 and ``maps`` (K, H, W) float32 of one image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'attention maps not found: {path}')
    try:
        with np.load(path) as data:
            return data['classes'], data['maps'].astype(np.float32)
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(f'{path} is not an attention map file ({e})') \
            from None


def write_meta(folder: str, **meta) -> None:
    with atomic_path(osp.join(folder, META_FILE)) as tmp:
        with open(tmp, 'w') as f:
            json.dump(meta, f, indent=2)


def read_meta(folder: str, split: str = None) -> dict:
    """The folder's ``meta.json``; with ``split``, an error unless the
    folder was made for that split."""
    path = osp.join(folder, META_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: {folder} is not a map '
                                'folder written by tools/infer_cam.py')
    with open(path) as f:
        meta = json.load(f)
    if split is not None and meta.get('split') != split:
        raise ValueError(f'{folder} holds maps of split '
                         f'{meta.get("split")!r}, not {split!r} ({path})')
    return meta
