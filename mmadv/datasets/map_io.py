"""The on-disk format of inferred attention maps (stage 2).

One compressed ``<name>.npz`` per image in a map folder:

* ``classes``: int64 (K,), the image's foreground class indices (0-based,
  VOC: 0 = aeroplane ... 19 = tvmonitor; segmentation label = index + 1);
* ``maps``: float16 (K, H, W) in [0, 1], at the original image size.

and a ``meta.json`` describing the folder (``split``, ``ann_file``,
``num_images``, ``config``, ``checkpoint``, the data set's ``classes``
and ``palette`` and the settings that made the maps), so that readers
refuse a folder made for another split and writers refuse to mix maps made
otherwise.
"""
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import PascalVOCDataset

from .layout import read_image_list
from ..utils.atomic import atomic_path
from ..utils.errors import InputError, MissingInputError, one_line

META_FILE = 'meta.json'


def map_path(folder: str, name: str) -> str:
    return osp.join(folder, f'{name}.npz')


def _check(path: str, classes: np.ndarray, maps: np.ndarray,
           num_classes: Optional[int]) -> None:
    """Raise an :class:`InputError` naming ``path`` unless ``classes``
    and ``maps`` are in the format of the module docstring."""
    if classes.ndim != 1 or not np.issubdtype(classes.dtype, np.integer):
        raise InputError(f'{path}: classes must be (K,) integers, got '
                         f'{classes.dtype} {classes.shape}')
    if not np.issubdtype(maps.dtype, np.floating):
        raise InputError(f'{path}: maps must be floats, got {maps.dtype}')
    if maps.ndim != 3 or maps.shape[0] != classes.shape[0]:
        raise InputError(f'{path}: maps must be (K, H, W) with K = '
                         f'{classes.shape[0]} classes, got {maps.shape}')
    out = classes < 0
    if num_classes is not None:
        out |= classes >= num_classes
    if out.any():
        allowed = '>= 0' if num_classes is None else \
            f'0..{num_classes - 1}'
        raise InputError(f'{path}: class index {int(classes[out][0])} is '
                         f'not a foreground class ({allowed})')
    if len(np.unique(classes)) != classes.size:
        raise InputError(f'{path}: a class appears twice in {classes}')
    finite = np.isfinite(maps)
    if not finite.all():
        raise InputError(f'{path}: {int((~finite).sum())} map values are '
                         'NaN or infinite')
    if maps.size and (maps.min() < 0 or maps.max() > 1):
        raise InputError(f'{path}: map values must be in [0, 1], got '
                         f'{float(maps.min()):.8g}..{float(maps.max()):.8g}')


def save_maps(path: str, classes: np.ndarray, maps: np.ndarray) -> None:
    """Write one image's maps atomically (see the module docstring).

    Raises:
        InputError: They are not in the format (e.g. NaN from a diverged
            model), named with ``path``.
    """
    classes = np.asarray(classes)
    maps = np.asarray(maps)
    _check(path, classes, maps, None)
    classes = classes.astype(np.int64)
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, classes=classes,
                            maps=maps.astype(np.float16))


def read_npz(path: str, keys: Sequence[str], missing: str,
             kind: str) -> tuple:
    """The arrays ``keys`` of the ``.npz`` file ``path``.

    Raises:
        MissingInputError: ``<missing>: <path>``, no such file.
        InputError: ``<path> is not <kind> (<why>)``: it does not read
            (truncated, not an ``.npz``) or lacks one of the arrays.
    """
    if not osp.isfile(path):
        raise MissingInputError(f'{missing}: {path}')
    try:
        with np.load(path) as data:
            return tuple(data[key] for key in keys)
    except Exception as e:  # truncated zip, not an npz, missing array
        raise InputError(f'{path} is not {kind} ({one_line(e)})') from None


def load_maps(path: str,
              num_classes: Optional[int] = None
              ) -> Tuple[np.ndarray, np.ndarray]:
    """``classes`` (K,) int64 and ``maps`` (K, H, W) float32 of one image.

    Args:
        path (str): The ``.npz`` file.
        num_classes (int, optional): The data set's foreground classes
            (VOC: 20); a class index not below it is refused.

    Raises:
        MissingInputError: No such file.
        InputError: It does not read (truncated, not an ``.npz``), or its
            content is not in the format: NaN or infinite values, values
            outside [0, 1], class indices out of range or repeated.
    """
    classes, maps = read_npz(path, ('classes', 'maps'),
                             'attention maps not found',
                             'an attention map file')
    _check(path, classes, maps, num_classes)
    return classes.astype(np.int64), maps.astype(np.float32)


def write_meta(folder: str, **meta) -> None:
    with atomic_path(osp.join(folder, META_FILE)) as tmp:
        with open(tmp, 'w') as f:
            json.dump(meta, f, indent=2)


def read_meta(folder: str, split: Optional[str] = None) -> dict:
    """The folder's ``meta.json``; with ``split``, an error unless the
    folder was made for that split."""
    if not osp.isdir(folder):
        raise MissingInputError(f'map folder {folder} not found')
    path = osp.join(folder, META_FILE)
    if not osp.isfile(path):
        raise MissingInputError(f'{path} not found: {folder} is not a map '
                                'folder written by mmadv')
    with open(path) as f:
        meta = json.load(f)
    if split is not None and meta.get('split') != split:
        raise InputError(f'{folder} holds maps of split '
                         f'{meta.get("split")!r}, not {split!r} ({path})')
    return meta


def folder_classes(meta: dict) -> Tuple[Tuple[str, ...], List[List[int]]]:
    """The label names (background first) and their ``[r, g, b]`` colours
    of a map folder's data set, from its ``meta.json``; VOC's for a folder
    that records none (mmadv wrote only VOC's label space before it
    recorded them)."""
    if 'classes' not in meta:
        return (tuple(PascalVOCDataset.METAINFO['classes']),
                [list(c) for c in PascalVOCDataset.METAINFO['palette']])
    return tuple(meta['classes']), [list(c) for c in meta['palette']]


def list_map_names(map_dir: str, meta: dict) -> Tuple[List[str], str]:
    """The images of a map folder.

    When the folder's ``meta['ann_file']`` (as recorded, absolute or
    relative to the current directory) is a file, its names (one a line,
    blank lines skipped) in its order, and every one must have maps: a
    half-inferred folder is an error rather than a silently partial
    result. Otherwise (the list moved, or none recorded) every
    ``<name>.npz`` of the folder, sorted (temporary ``.*`` files left
    out).

    Args:
        map_dir (str): The map folder.
        meta (dict): Its ``meta.json``.

    Returns:
        tuple[list[str], str]: The names and where they came from (the
        list file or ``map_dir``).

    Raises:
        MissingInputError: Maps missing for images of the list, or no
            maps at all.
    """
    ann_file = meta.get('ann_file')
    if ann_file and osp.isfile(ann_file):
        names = read_image_list(ann_file)
        missing = [n for n in names if not osp.isfile(map_path(map_dir, n))]
        if missing:
            raise MissingInputError(
                f'{len(missing)} of the {len(names)} images of {ann_file} '
                f'have no maps in {map_dir} (first: '
                f'{map_path(map_dir, missing[0])})')
        source = ann_file
    else:
        names = sorted(f[:-len('.npz')] for f in os.listdir(map_dir)
                       if f.endswith('.npz') and not f.startswith('.'))
        source = map_dir
    if not names:
        raise MissingInputError(f'no maps (.npz) in {map_dir}')
    return names, source
