"""How the pipeline chooses the background threshold of the pseudo-labels.

A rule reads the training split's maps, and a rule that needs them some
or all of its masks, and returns a :class:`ThresholdChoice`. The rules are
registered in mmseg's ``TASK_UTILS`` and built from the pipeline setting
``threshold_rule`` (a config dict):

- ``MaskSweepThreshold``: the best of the sweep on every training mask,
  mmadv's choice so far and that of PSA-style evaluations. It reads
  pixel labels of the very images it labels: an upper bound, not what a
  user without masks gets.
- ``FixedThreshold``: a given value (EADER's code: 0.3; mmadv's default
  classifier threshold: 0.25). Reads no mask.
- ``SubsetSweepThreshold``: the best of the sweep on ``num_images``
  training images drawn with a seed; the choice reads no other training
  mask (a folder with just those masks is enough; where the folder holds
  all of them, the pipeline still scores the training split with them,
  which reports on the choice but does not make it).
- ``OtsuThreshold``: label-free. Otsu's rule (N. Otsu, "A threshold
  selection method from gray-level histograms", IEEE Trans. SMC 9(1),
  1979) on the histogram of every training pixel's highest map among its
  image's labelled classes (0 in images without a label): the threshold
  that splits that population into background and foreground with the
  largest between-class variance. It uses the image labels (which maps a
  pixel has) and the maps only.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np
from mmengine.registry import DefaultScope
from mmseg.registry import TASK_UTILS

from ..datasets.layout import missing_files
from ..datasets.map_io import list_map_names, load_maps, map_path, read_meta
from ..structures.labels import DEFAULT_BG_THRESHOLD
from ..utils.console import progress_bar
from ..utils.domain import UNIT, Domain
from ..utils.errors import ConfigError
from .map_evaluation import evaluate_maps

COUNT = Domain(1, integer=True)  # masks to read
SEED = Domain(0, integer=True)  # numpy's default_rng takes these
BINS = Domain(2, 1 << 16, integer=True)  # Otsu's histogram


@dataclass
class ThresholdChoice:
    """A chosen background threshold and what chose it.

    Attributes:
        threshold (float): The threshold.
        rule (str): How, for tables (e.g. ``'20 masks'``, ``'Otsu'``).
        num_masks (int): Training masks the choice read.
        split_miou (float, optional): mIoU of the maps over the whole
            split at ``threshold``, when the rule scored it on the way
            (the mask sweep); None otherwise.
        details (dict): What else a reader needs (the subset's names, the
            sweep's scores, the histogram size).
    """

    threshold: float
    rule: str
    num_masks: int
    split_miou: Optional[float] = None
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return dict(threshold=self.threshold, rule=self.rule,
                    num_masks=self.num_masks, split_miou=self.split_miou,
                    details=self.details)


class ThresholdRule:
    """A way to choose the background threshold from a training split's
    maps (see the module docstring)."""

    def mask_names(self, names: Sequence[str]) -> List[str]:
        """The images of ``names`` (the split's list) whose masks
        :meth:`choose` reads."""
        return []

    def choose(self, map_dir: str, split: str, gt_dir: Optional[str],
               thresholds: Sequence[float]) -> ThresholdChoice:
        """The threshold for the maps of ``map_dir`` (of ``split``), with
        the masks of ``gt_dir`` where the rule reads masks, and the
        pipeline's sweep ``thresholds``."""
        raise NotImplementedError

    def _need_masks(self, gt_dir: Optional[str]) -> str:
        if gt_dir is None:
            raise ConfigError(f'threshold rule {type(self).__name__} reads '
                              'training masks: set train_gt_dir, or choose '
                              'FixedThreshold or OtsuThreshold')
        return gt_dir


def _map_names(map_dir: str, split: str) -> List[str]:
    """The images of the map folder ``map_dir`` of ``split``."""
    return list_map_names(map_dir, read_meta(map_dir, split))[0]


class _SweepThreshold(ThresholdRule):
    """The best threshold of the sweep on the masks of :meth:`mask_names`;
    ``scores_split``: those are the whole split's, so the sweep's best is
    the split's score too."""

    name = ''
    scores_split = False

    def choose(self, map_dir, split, gt_dir, thresholds):
        gt_dir = self._need_masks(gt_dir)
        picked = self.mask_names(_map_names(map_dir, split))
        result = evaluate_maps(map_dir, gt_dir, split, thresholds,
                               names=None if self.scores_split else picked)
        result.log()
        details = dict(thresholds=list(thresholds),
                       mIoU=[float(v) for v in result.scores['mIoU']])
        if not self.scores_split:
            details['images'] = picked
        return ThresholdChoice(
            threshold=result.best_threshold,
            rule=self.name,
            num_masks=len(picked),
            split_miou=result.best_miou if self.scores_split else None,
            details=details)


@TASK_UTILS.register_module()
class MaskSweepThreshold(_SweepThreshold):
    """The best threshold of the sweep on every mask of the split (an
    upper bound: it reads the pixel labels of the images it labels)."""

    name = 'train masks'
    scores_split = True

    def mask_names(self, names: Sequence[str]) -> List[str]:
        return list(names)


@TASK_UTILS.register_module()
class FixedThreshold(ThresholdRule):
    """A given threshold.

    Args:
        threshold (float): Defaults to 0.25 (the classifier's
            ``bg_threshold``).
    """

    def __init__(self, threshold: float = DEFAULT_BG_THRESHOLD) -> None:
        self.threshold = UNIT.check(threshold, 'FixedThreshold.threshold')

    def choose(self, map_dir, split, gt_dir, thresholds):
        return ThresholdChoice(threshold=float(self.threshold), rule='fixed',
                               num_masks=0)


@TASK_UTILS.register_module()
class SubsetSweepThreshold(_SweepThreshold):
    """The best threshold of the sweep on ``num_images`` images of the
    split, drawn without replacement by ``numpy.random.default_rng(seed)``
    from the sorted image names.

    Args:
        num_images (int): N. Defaults to 20.
        seed (int): Defaults to 0.
    """

    def __init__(self, num_images: int = 20, seed: int = 0) -> None:
        self.num_images = COUNT.check(num_images,
                                      'SubsetSweepThreshold.num_images')
        self.seed = SEED.check(seed, 'SubsetSweepThreshold.seed')
        self.name = f'{num_images} masks'

    def mask_names(self, names: Sequence[str]) -> List[str]:
        names = sorted(names)
        if self.num_images > len(names):
            raise ConfigError(
                f'SubsetSweepThreshold.num_images {self.num_images} is more '
                f'than the split\'s {len(names)} images')
        picked = np.random.default_rng(self.seed).choice(
            len(names), self.num_images, replace=False)
        return [names[i] for i in sorted(picked)]


def otsu_threshold(histogram: np.ndarray) -> float:
    """Otsu's threshold of a histogram of values in [0, 1] (``B`` equal
    bins): the bin edge ``t = k / B`` maximising the between-class
    variance ``w_0 w_1 (mu_0 - mu_1)^2`` of the values below and above it.

    Args:
        histogram (np.ndarray): ``(B,)`` counts.

    Returns:
        float: The threshold; 0.5 when all values fall in one bin.
    """
    counts = np.asarray(histogram, np.float64)
    bins = counts.size
    centres = (np.arange(bins) + 0.5) / bins
    below = np.cumsum(counts)[:-1]  # values below edge k / B, k = 1..B-1
    mass = np.cumsum(counts * centres)[:-1]
    total, total_mass = counts.sum(), (counts * centres).sum()
    above = total - below
    valid = (below > 0) & (above > 0)
    if not valid.any():
        return 0.5
    mu_below = np.divide(mass, below, out=np.zeros_like(mass), where=valid)
    mu_above = np.divide(total_mass - mass, above,
                         out=np.zeros_like(mass), where=valid)
    variance = np.where(valid, below * above * (mu_below - mu_above)**2, -1)
    return float((np.argmax(variance) + 1) / bins)


@TASK_UTILS.register_module()
class OtsuThreshold(ThresholdRule):
    """Label-free: :func:`otsu_threshold` of the histogram of each
    training pixel's highest labelled-class map.

    Args:
        bins (int): Histogram bins over [0, 1]. Defaults to 256.
    """

    def __init__(self, bins: int = 256) -> None:
        self.bins = BINS.check(bins, 'OtsuThreshold.bins')

    def choose(self, map_dir, split, gt_dir, thresholds):
        names = _map_names(map_dir, split)
        histogram = np.zeros(self.bins, np.int64)
        with progress_bar(len(names)) as bar:
            for name in names:
                classes, maps = load_maps(map_path(map_dir, name))
                top = maps.max(0) if len(classes) else np.zeros(
                    maps.shape[1:])
                histogram += np.bincount(
                    np.minimum((top * self.bins).astype(np.int64),
                               self.bins - 1).ravel(),
                    minlength=self.bins)
                bar.update()
        return ThresholdChoice(
            threshold=otsu_threshold(histogram), rule='Otsu', num_masks=0,
            details=dict(bins=self.bins, pixels=int(histogram.sum()),
                         map_dir=osp.abspath(map_dir)))


def build_threshold_rule(cfg: dict) -> ThresholdRule:
    """The rule of a ``threshold_rule`` config dict; a
    :class:`~mmadv.utils.errors.ConfigError` naming a bad one."""
    try:
        with DefaultScope.overwrite_default_scope('mmseg'):
            rule = TASK_UTILS.build(dict(cfg))
    except ConfigError:
        raise
    except Exception as error:
        raise ConfigError(f'threshold_rule {cfg}: {error}') from None
    if not isinstance(rule, ThresholdRule):
        raise ConfigError(f'threshold_rule {cfg} is no ThresholdRule')
    return rule


def _has_every_mask(map_dir: str, split: str,
                    gt_dir: Optional[str]) -> bool:
    """Whether ``gt_dir`` holds the mask of every image of the maps."""
    return gt_dir is not None and not missing_files(
        gt_dir, _map_names(map_dir, split), '.png')


def compare_threshold_rules(rules: Sequence[dict],
                            train_maps: str,
                            eval_maps: str,
                            train_gt_dir: Optional[str],
                            eval_gt_dir: str,
                            thresholds: Sequence[float],
                            train_split: str = 'train_aug',
                            eval_split: str = 'val') -> List[dict]:
    """Each rule's threshold on the training maps and the mIoU it gives:
    what a user with these masks (or none) would get.

    Args:
        rules (Sequence[dict]): ``threshold_rule`` configs.
        train_maps (str): Map folder of ``train_split``, where the rules
            choose.
        eval_maps (str): Map folder of ``eval_split``, scored at each
            threshold.
        train_gt_dir (str, optional): Training masks: those the rules read,
            and, when it holds one for every image, the training split's
            score. None: no training masks (the rules that read masks are
            refused).
        eval_gt_dir (str): Masks of the evaluation split.
        thresholds (Sequence[float]): The sweep of the sweeping rules.
        train_split (str): Defaults to ``'train_aug'``.
        eval_split (str): Defaults to ``'val'``.

    Returns:
        list[dict]: Per rule: ``threshold_rule`` (the config), ``rule``,
        ``threshold``, ``num_masks``, ``map_miou_<train_split>`` (None
        without ``train_gt_dir``) and ``map_miou_<eval_split>``.
    """
    rows = []
    for cfg in rules:
        choice = build_threshold_rule(cfg).choose(train_maps, train_split,
                                                  train_gt_dir, thresholds)
        row = dict(threshold_rule=dict(cfg), rule=choice.rule,
                   threshold=choice.threshold, num_masks=choice.num_masks)
        scored = ((train_split, train_maps, train_gt_dir if
                   _has_every_mask(train_maps, train_split, train_gt_dir)
                   else None), (eval_split, eval_maps, eval_gt_dir))
        for split, folder, gt_dir in scored:
            row[f'map_miou_{split}'] = None if gt_dir is None else \
                evaluate_maps(folder, gt_dir, split,
                              [choice.threshold]).best_miou
        rows.append(row)
    return rows
