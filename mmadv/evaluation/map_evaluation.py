"""Map folders scored against ground-truth masks over a sweep of
background thresholds.

Example::

    from mmadv.apis import evaluate_maps

    result = evaluate_maps('work_dirs/maps_val', 'data/.../SegmentationClass',
                           'val', thresholds=[0.1, 0.2, 0.3])
    result.best_threshold, result.best_miou
"""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from prettytable import PrettyTable

from ..datasets.label_io import read_label_png
from ..datasets.map_io import (folder_classes, list_map_names, load_maps,
                               map_path, read_meta)
from ..utils.atomic import write_json
from ..utils.console import progress_bar
from ..utils.errors import InputError, MissingInputError
from .map_metrics import ThresholdSweep


def _nan_to_none(values) -> list:
    return [None if np.isnan(v) else float(v) for v in values]


@dataclass
class MapEvaluation:
    """The scores of a map folder at every threshold of a sweep.

    Attributes:
        map_dir, gt_dir, split (str): What was scored.
        image_list (str): Where the image names came from (the folder's
            recorded list, or the folder itself).
        num_images (int): Images scored.
        classes (list[str]): Class names, background first.
        map_meta (dict): The map folder's ``meta.json`` (what made the
            maps), so that a score is never taken for other maps.
        scores (dict): :meth:`ThresholdSweep.results`: ``thresholds``
            ``(T,)``, per-class ``IoU``, ``Precision``, ``Recall``
            ``(T, C)``, ``mIoU``, ``mPrecision``, ``mRecall``, ``aAcc``
            ``(T,)`` (fractions, NaN where undefined), ``best_index``,
            ``best_threshold``, ``best_mIoU``.
    """

    map_dir: str
    gt_dir: str
    split: str
    image_list: str
    num_images: int
    classes: List[str]
    map_meta: dict
    scores: dict

    @property
    def best_threshold(self) -> float:
        """The threshold of the highest mIoU (the lowest on ties)."""
        return self.scores['best_threshold']

    @property
    def best_miou(self) -> float:
        """The highest mIoU, a fraction."""
        return self.scores['best_mIoU']

    def to_json(self) -> dict:
        """Every number with plain types, NaN as ``null``: the folders,
        ``classes``, ``thresholds``, ``mIoU`` (one per threshold), ``best``
        (the best threshold's entry) and ``per_threshold`` (one entry per
        threshold: ``threshold``, ``mIoU``, ``mPrecision``, ``mRecall``,
        ``aAcc`` and the per-class ``IoU``, ``Precision``, ``Recall``)."""
        scores = self.scores
        per_threshold = []
        for i, threshold in enumerate(scores['thresholds']):
            entry = dict(threshold=float(threshold))
            for key in ('mIoU', 'mPrecision', 'mRecall', 'aAcc'):
                entry[key] = _nan_to_none([scores[key][i]])[0]
            for key in ('IoU', 'Precision', 'Recall'):
                entry[key] = dict(
                    zip(self.classes, _nan_to_none(scores[key][i])))
            per_threshold.append(entry)
        return dict(
            map_dir=self.map_dir,
            gt_dir=self.gt_dir,
            split=self.split,
            image_list=self.image_list,
            num_images=self.num_images,
            classes=list(self.classes),
            map_meta=self.map_meta,
            thresholds=[float(t) for t in scores['thresholds']],
            mIoU=_nan_to_none(scores['mIoU']),
            best=per_threshold[scores['best_index']],
            per_threshold=per_threshold)

    def dump(self, path: str) -> None:
        """Write :meth:`to_json` to ``path`` atomically."""
        write_json(path, self.to_json())

    def log(self) -> None:
        """Log the mIoU per threshold and the best threshold's per-class
        table (in %, as mmseg's ``IoUMetric``)."""
        scores = self.scores
        table = PrettyTable()
        table.add_column('Threshold',
                         [f'{t:.3f}' for t in scores['thresholds']])
        for key in ('mIoU', 'mPrecision', 'mRecall'):
            table.add_column(key, np.round(scores[key] * 100, 2).tolist())
        print_log('mIoU per background threshold:\n' + table.get_string(),
                  logger='current')
        best = scores['best_index']
        table = PrettyTable()
        table.add_column('Class', list(self.classes))
        for key in ('IoU', 'Precision', 'Recall'):
            table.add_column(key,
                             np.round(scores[key][best] * 100, 2).tolist())
        print_log(
            f'per class results at threshold {self.best_threshold:.3f}:\n'
            + table.get_string(), logger='current')
        print_log(
            f'best background threshold {self.best_threshold:.3f}: mIoU '
            f'{self.best_miou * 100:.2f}', logger='current')


def _read_gt(gt_dir: str, name: str, map_file: str,
             map_size: tuple) -> np.ndarray:
    """The ``(H, W)`` class indices of ``<gt_dir>/<name>.png``, checked
    against the size of the maps."""
    path = osp.join(gt_dir, f'{name}.png')
    if not osp.isfile(path):
        raise MissingInputError(f'ground truth {path} not found')
    gt = read_label_png(path)
    if gt.shape != tuple(map_size):
        raise InputError(f'map size {tuple(map_size)} of {map_file} != '
                         f'ground truth size {gt.shape} of {path}')
    return gt


def evaluate_maps(map_dir: str,
                  gt_dir: str,
                  split: str,
                  thresholds: Sequence[float],
                  names: Optional[Sequence[str]] = None) -> MapEvaluation:
    """Score the maps of ``map_dir`` against ``<gt_dir>/<name>.png`` at
    every background threshold, in one pass
    (:class:`~mmadv.evaluation.ThresholdSweep`).

    The images are those of the image list recorded in the folder's
    ``meta.json`` when that file exists (every one must have maps), else
    every ``.npz`` of the folder. The masks are read as class indices
    (VOC's palette PNGs give their palette indices), 255 ignored; the
    classes are the data set's recorded in the folder
    (:func:`~mmadv.pseudo_labels.map_io.folder_classes`).

    Args:
        map_dir (str): A map folder (:mod:`mmadv.pseudo_labels.map_io`).
        gt_dir (str): Folder of the ``<name>.png`` ground-truth masks.
        split (str): The split the maps must be of.
        thresholds (Sequence[float]): Background thresholds.
        names (Sequence[str], optional): Score only these images of the
            folder's (e.g. the few whose masks a user has); default: all.

    Returns:
        MapEvaluation: The scores; :meth:`MapEvaluation.log` and
        :meth:`MapEvaluation.dump` show and save them.
    """
    meta = read_meta(map_dir, split)
    if not osp.isdir(gt_dir):
        raise MissingInputError(f'ground-truth folder {gt_dir} not found')
    listed, source = list_map_names(map_dir, meta)
    if names is None:
        names = listed
    else:
        unknown = sorted(set(names) - set(listed))
        if unknown:
            raise InputError(f'{map_dir} has no maps of {unknown[:3]} '
                             f'({len(unknown)} of the images to score)')
        source = f'{len(names)} images of {source}'
    print_log(
        f'scoring the maps of {len(names)} images ({source}) against '
        f'{gt_dir}', logger='current')
    classes, _ = folder_classes(meta)
    sweep = ThresholdSweep(thresholds, num_classes=len(classes))
    with progress_bar(len(names)) as bar:
        for name in names:
            path = map_path(map_dir, name)
            img_classes, maps = load_maps(path, len(classes) - 1)
            gt = _read_gt(gt_dir, name, path, maps.shape[1:])
            try:
                sweep.update(img_classes, maps, gt)
            except ValueError as e:
                raise InputError(f'{path} against {gt_dir}/{name}.png: '
                                 f'{e}') from None
            bar.update()
    return MapEvaluation(
        map_dir=map_dir,
        gt_dir=gt_dir,
        split=split,
        image_list=source,
        num_images=len(names),
        classes=list(classes),
        map_meta=meta,
        scores=sweep.results())
