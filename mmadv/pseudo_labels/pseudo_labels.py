"""Pseudo-labels from attention maps, written as VOC-format PNGs.

A pseudo-label is an ``(H, W)`` uint8 array in VOC's label space: 0 for
background, ``c + 1`` for foreground class ``c``, 255 for pixels to ignore
in training. It is saved as a palette PNG like VOC's
``SegmentationClass`` masks, so mmseg's ``LoadAnnotations`` reads back the
labels and an image viewer shows VOC's colours.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmseg.datasets import PascalVOCDataset
from PIL import Image

from ..evaluation.map_metrics import confusion_matrix, max_and_label
from ..utils.atomic import atomic_path
from .crf import crf_refine
from .map_io import load_maps, map_path

IGNORE_INDEX = 255
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


def check_uncertain(uncertain: Sequence[float]) -> Tuple[float, float]:
    """``(low, high)`` as floats; an error unless ``0 <= low <= high``."""
    low, high = (float(v) for v in uncertain)
    if not 0. <= low <= high:
        raise ValueError('uncertain must be (low, high) with '
                         f'0 <= low <= high, got {tuple(uncertain)}')
    return low, high


def make_pseudo_label(classes: np.ndarray,
                      maps: np.ndarray,
                      bg_threshold: float,
                      uncertain: Optional[Sequence[float]] = None,
                      crf: Optional[dict] = None,
                      image: Optional[np.ndarray] = None) -> np.ndarray:
    """The pseudo-label of one image's attention maps.

    With ``s = max_k A_k`` and ``y = classes[argmax_k A_k] + 1``:

    - default: ``0`` where ``s < bg_threshold``, else ``y``
      (:func:`~mmadv.evaluation.map_metrics.labels_from_maps`);
    - ``uncertain=(low, high)``: ``0`` where ``s < low``, 255 (ignore)
      where ``low <= s < high``, ``y`` where ``s >= high``;
      ``bg_threshold`` is not used;
    - ``crf``: the scores ``[A_1, ..., A_K, bg_threshold]`` divided by
      their sum at each pixel are the probabilities of
      ``[y_1, ..., y_K, background]`` (so that their argmax, ties to the
      foreground, is the default label), refined by
      :func:`~mmadv.pseudo_labels.crf.crf_refine` with ``image``; the
      label is their argmax. With ``uncertain`` too, the pixels where the
      unrefined ``s`` is in ``[low, high)`` become 255 afterwards.

    Args:
        classes (np.ndarray): ``(K,)`` 0-based foreground class indices.
        maps (np.ndarray): ``(K, H, W)`` attention maps in [0, 1].
        bg_threshold (float): Background score (threshold).
        uncertain (Sequence[float], optional): ``(low, high)``, the band of
            ignored pixels, ``0 <= low <= high``. Defaults to None.
        crf (dict, optional): Keyword arguments of ``crf_refine`` (``t``,
            ``scale_factor``; ``dict()`` for PSA's); None for no CRF.
            Defaults to None.
        image (np.ndarray, optional): ``(H, W, 3)`` uint8 RGB image, needed
            with ``crf``. Defaults to None.

    Returns:
        np.ndarray: ``(H, W)`` uint8 with values in
        ``{0, 255} | {c + 1 for c in classes}``.
    """
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    maps = np.asarray(maps, dtype=np.float32)
    score, label = max_and_label(classes, maps)
    band = None
    if uncertain is not None:
        low, high = check_uncertain(uncertain)
        band = (score >= low) & (score < high)
    if crf is not None:
        if image is None:
            raise ValueError('the CRF needs the image')
        if classes.size:
            scores = np.concatenate([
                maps,
                np.full((1, ) + maps.shape[1:], bg_threshold, np.float32)
            ])
            probs = scores / np.maximum(scores.sum(0), 1e-12)
            refined = crf_refine(image, probs, **crf)
            lut = np.append(classes + 1, 0)
            label = lut[np.argmax(refined, axis=0)]
    elif uncertain is not None:
        label[score < high] = 0
    else:
        label[score < float(bg_threshold)] = 0
    if band is not None:
        label[band] = IGNORE_INDEX
    return label.astype(np.uint8)


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
        FileNotFoundError: Maps missing for images of the list.
    """
    ann_file = meta.get('ann_file')
    if ann_file and osp.isfile(ann_file):
        with open(ann_file) as f:
            names = [line.strip() for line in f if line.strip()]
        missing = [n for n in names if not osp.isfile(map_path(map_dir, n))]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of the {len(names)} images of {ann_file} '
                f'have no maps in {map_dir} (first: '
                f'{map_path(map_dir, missing[0])})')
        return names, ann_file
    names = sorted(f[:-len('.npz')] for f in os.listdir(map_dir)
                   if f.endswith('.npz') and not f.startswith('.'))
    return names, map_dir


def read_label_png(path: str) -> np.ndarray:
    """The ``(H, W)`` labels of a mask PNG as stored (palette indices of a
    'P' PNG, as mmseg's ``LoadAnnotations`` reads them).

    Raises:
        FileNotFoundError: No such file.
        ValueError: It does not decode, or is not single-channel.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label PNG {path} not found')
    try:
        with Image.open(path) as png:
            label = np.array(png)
    except OSError as e:
        raise ValueError(f'cannot decode {path} ({e})') from None
    if label.ndim != 2:
        raise ValueError(f'{path} is not a single-channel label PNG '
                         f'(shape {label.shape})')
    return label


def read_rgb_image(path: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB, decoded by OpenCV as mmseg's
    ``LoadImageFromFile`` does by default.

    Raises:
        FileNotFoundError: No such file.
        ValueError: It does not decode.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} not found')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot decode image {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


Labeler = Callable[..., np.ndarray]


class PseudoLabelJob:
    """Make, write and score the label PNG of one image by name; a
    picklable callable for ``multiprocessing.Pool``.

    For image ``<name>`` it reads ``<map_dir>/<name>.npz`` and
    ``<img_dir>/<name><img_suffix>`` (its size must be the maps' size),
    writes ``<out_dir>/<name>.png`` with ``labeler`` and
    :func:`save_label_png`, or keeps that file when it exists (resuming),
    and with ``gt_dir`` scores the label against ``<gt_dir>/<name>.png``
    when that exists.

    Args:
        map_dir (str): Map folder (see :mod:`.map_io`).
        img_dir (str): Image folder.
        out_dir (str): Folder of the label PNGs.
        labeler (callable): ``labeler(classes, maps, image=image)`` ->
            ``(H, W)`` uint8 label, e.g. ``functools.partial`` of
            :func:`make_pseudo_label` with its settings (a module-level
            function, so that it pickles), or of
            :func:`~mmadv.pseudo_labels.affinity_labels.affinity_labels`.
        img_suffix (str): Image suffix. Defaults to ``'.jpg'``.
        gt_dir (str, optional): Ground-truth masks. Defaults to None.
        num_classes (int): Classes of the ground truth, background
            included. Defaults to 21.
    """

    def __init__(self,
                 map_dir: str,
                 img_dir: str,
                 out_dir: str,
                 labeler: Labeler,
                 img_suffix: str = '.jpg',
                 gt_dir: Optional[str] = None,
                 num_classes: int = 21) -> None:
        self.map_dir = map_dir
        self.img_dir = img_dir
        self.out_dir = out_dir
        self.labeler = labeler
        self.img_suffix = img_suffix
        self.gt_dir = gt_dir
        self.num_classes = num_classes

    def __call__(self, name: str) -> Dict[str, object]:
        """Returns:
            dict: ``name``; ``written`` (False when the PNG was there);
            with a ground truth, ``confusion`` (``(C, C)``, see
            :func:`~mmadv.evaluation.map_metrics.confusion_matrix`),
            ``num_valid`` (pixels of valid ground truth) and
            ``num_labelled`` (those not ignored by the label), else
            ``confusion=None``.
        """
        out_path = osp.join(self.out_dir, f'{name}.png')
        written = not osp.isfile(out_path)
        if written:
            label = self._make(name)
            save_label_png(out_path, label)
        result = dict(name=name, written=written, confusion=None)
        gt_path = osp.join(self.gt_dir or '', f'{name}.png')
        if self.gt_dir is None or not osp.isfile(gt_path):
            return result
        if not written:
            label = read_label_png(out_path)
        gt = read_label_png(gt_path)
        if gt.shape != label.shape:
            raise ValueError(f'label size {label.shape} of {out_path} != '
                             f'ground truth size {gt.shape} of {gt_path}')
        valid = gt != IGNORE_INDEX
        result.update(
            confusion=confusion_matrix(label, gt, self.num_classes),
            num_valid=int(valid.sum()),
            num_labelled=int((valid & (label != IGNORE_INDEX)).sum()))
        return result

    def _make(self, name: str) -> np.ndarray:
        path = map_path(self.map_dir, name)
        classes, maps = load_maps(path)
        img_path = osp.join(self.img_dir, name + self.img_suffix)
        image = read_rgb_image(img_path)
        if image.shape[:2] != maps.shape[1:]:
            raise ValueError(f'map size {maps.shape[1:]} of {path} != '
                             f'image size {image.shape[:2]} of {img_path}')
        return self.labeler(classes, maps, image=image)
