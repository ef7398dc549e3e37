"""Score attention maps as segmentations, over a sweep of background
thresholds.

An image's maps (see :mod:`mmadv.pseudo_labels.map_io`) become a label map
by the rule of CAM-based weakly-supervised segmentation
(:func:`mmadv.pseudo_labels.labeling.threshold_labels`): a pixel is
background when its highest map is below the background threshold,
otherwise it takes the class of that map. :class:`ThresholdSweep` scores
every threshold of a sweep in one pass over the data, so that the
threshold can be chosen on ground truth.

The scores are mmseg's ``IoUMetric`` ones, from the confusion matrix
``M`` (rows ground truth, columns prediction) summed over the data set:

- ``TP_c = M[c, c]``, ``FP_c = sum_g M[g, c] - TP_c``,
  ``FN_c = sum_p M[c, p] - TP_c``;
- ``IoU_c = TP_c / (TP_c + FP_c + FN_c)``,
  ``Precision_c = TP_c / (TP_c + FP_c)``,
  ``Recall_c = TP_c / (TP_c + FN_c)``;
- a ratio with a zero denominator is NaN (a class absent from both the
  ground truth and the prediction has a NaN IoU), and ``mIoU`` is the mean
  of the IoUs that are not NaN, as ``IoUMetric`` takes ``np.nanmean``.

All scores are fractions in [0, 1].
"""
from typing import Dict, Sequence

import numpy as np
import torch

from ..structures.labels import best_class
from ..utils.domain import UNIT
from ..utils.errors import ConfigError, InputError


def _valid_pixels(gt: np.ndarray, num_classes: int,
                  ignore_index: int) -> np.ndarray:
    """Mask of the pixels to score; an error on any other GT value."""
    valid = gt != ignore_index
    bad = gt[valid & ((gt < 0) | (gt >= num_classes))]
    if bad.size:
        raise ValueError(f'ground truth holds values {np.unique(bad)[:5]} '
                         f'outside 0..{num_classes - 1} and {ignore_index}')
    return valid


def confusion_matrix(pred: np.ndarray,
                     gt: np.ndarray,
                     num_classes: int = 21,
                     ignore_index: int = 255) -> np.ndarray:
    """Pixel counts ``M[g, p]`` of ground truth ``g`` predicted as ``p``.

    Pixels where the ground truth or the prediction is ``ignore_index``
    are left out (a pseudo-label's uncertain pixels are scored only by the
    coverage the caller reports).

    Args:
        pred (np.ndarray): ``(H, W)`` predicted labels.
        gt (np.ndarray): ``(H, W)`` ground-truth labels.
        num_classes (int): Number of classes ``C``, background included.
            Defaults to 21 (VOC).
        ignore_index (int): Label left out. Defaults to 255.

    Returns:
        np.ndarray: ``(C, C)`` int64.

    Raises:
        ValueError: The shapes differ, or a label other than
            ``ignore_index`` is outside ``0 .. C - 1``.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} != ground truth '
                         f'shape {gt.shape}')
    valid = _valid_pixels(gt, num_classes, ignore_index)
    valid &= pred != ignore_index
    pred = pred[valid].astype(np.int64)
    if pred.size and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f'prediction holds values outside 0..'
                         f'{num_classes - 1} and {ignore_index}')
    index = gt[valid].astype(np.int64) * num_classes + pred
    return np.bincount(
        index, minlength=num_classes**2).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` in float64, NaN where ``den == 0``."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Mean over the last axis of the values that are not NaN; NaN (and
    no warning) where all are."""
    finite = ~np.isnan(values)
    return _ratio(np.where(finite, values, 0.).sum(-1), finite.sum(-1))


def iou_summary(confusion: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class and mean scores of a confusion matrix (see the module
    docstring for the formulas).

    Args:
        confusion (np.ndarray): ``(..., C, C)`` counts, rows ground truth,
            columns prediction (a stack, e.g. one per threshold, is
            scored matrix by matrix).

    Returns:
        dict[str, np.ndarray]: ``IoU``, ``Precision``, ``Recall``
        ``(..., C)`` and ``mIoU``, ``mPrecision``, ``mRecall``, ``aAcc``
        (overall pixel accuracy) ``(...)``, fractions, NaN where
        undefined.
    """
    confusion = np.asarray(confusion, np.int64)
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    num_pred = confusion.sum(-2)
    num_gt = confusion.sum(-1)
    scores = dict(
        IoU=_ratio(tp, num_pred + num_gt - tp),
        Precision=_ratio(tp, num_pred),
        Recall=_ratio(tp, num_gt))
    for key in ('IoU', 'Precision', 'Recall'):
        scores['m' + key] = _nanmean(scores[key])
    scores['aAcc'] = _ratio(tp.sum(-1), num_gt.sum(-1))
    return scores


class ThresholdSweep:
    """Confusion matrices of the labelling rule
    (:func:`~mmadv.pseudo_labels.labeling.threshold_labels`) for many
    background thresholds at once.

    Per image, the highest map and its class are found once. A pixel whose
    highest map is ``s`` is foreground for the ``n = #{t_i <= s}`` lowest
    thresholds and background for the others, so one ``np.bincount`` over
    ``(n, gt, label)`` followed by cumulative sums over ``n`` gives the
    confusion matrix of every threshold: the same as running
    :func:`~mmadv.pseudo_labels.labeling.threshold_labels` and
    :func:`confusion_matrix` per threshold.

    Args:
        thresholds (Sequence[float]): Background thresholds; scored in
            increasing order (duplicates dropped).
        num_classes (int): Number of classes ``C``, background included.
            Defaults to 21 (VOC).
        ignore_index (int): Ground-truth label left out. Defaults to 255.

    Attributes:
        thresholds (np.ndarray): ``(T,)`` float64, increasing.
        confusion (np.ndarray): ``(T, C, C)`` int64, summed over the
            images seen.
        num_images (int): Images seen.
    """

    def __init__(self,
                 thresholds: Sequence[float],
                 num_classes: int = 21,
                 ignore_index: int = 255) -> None:
        if not len(thresholds):
            raise ConfigError('thresholds must not be empty')
        thresholds = np.unique(np.asarray(
            UNIT.check_each(thresholds, 'thresholds'), np.float64))
        self.thresholds = thresholds
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.confusion = np.zeros((thresholds.size, num_classes, num_classes),
                                  np.int64)
        self.num_images = 0

    def update(self, classes: np.ndarray, maps: np.ndarray,
               gt: np.ndarray) -> None:
        """Add one image.

        Args:
            classes (np.ndarray): ``(K,)`` 0-based foreground classes.
            maps (np.ndarray): ``(K, H, W)`` attention maps.
            gt (np.ndarray): ``(H, W)`` ground-truth labels.
        """
        gt = np.asarray(gt)
        score, label = (t.numpy() for t in best_class(
            torch.as_tensor(np.asarray(maps)),
            torch.as_tensor(np.asarray(classes, np.int64))))
        if score.shape != gt.shape:
            raise ValueError(f'map size {score.shape} != ground truth size '
                             f'{gt.shape}')
        num_c, num_t = self.num_classes, self.thresholds.size
        if label.max(initial=0) >= num_c:
            raise ValueError(f'class {label.max() - 1} is not below '
                             f'num_classes - 1 = {num_c - 1}')
        valid = _valid_pixels(gt, num_c, self.ignore_index)
        num_fg = np.searchsorted(self.thresholds, score[valid], side='right')
        index = (num_fg * num_c + gt[valid].astype(np.int64)) * num_c \
            + label[valid]
        hist = np.bincount(
            index,
            minlength=(num_t + 1) * num_c**2).reshape(num_t + 1, num_c, num_c)
        # threshold i: foreground where num_fg > i, background elsewhere
        confusion = np.cumsum(hist[::-1], axis=0)[::-1][1:]
        confusion[..., 0] += np.cumsum(hist.sum(-1), axis=0)[:num_t]
        self.confusion += confusion
        self.num_images += 1

    def results(self) -> Dict[str, object]:
        """Scores of every threshold and the best one.

        Returns:
            dict: ``thresholds`` ``(T,)``; :func:`iou_summary` of each
            threshold (``IoU``, ``Precision``, ``Recall`` ``(T, C)``;
            ``mIoU``, ``mPrecision``, ``mRecall``, ``aAcc`` ``(T,)``);
            ``best_index``, ``best_threshold`` and ``best_mIoU``, the
            threshold of the highest mIoU (the lowest such on ties).

        Raises:
            ValueError: No pixel was scored.
        """
        scores = iou_summary(self.confusion)
        if np.isnan(scores['mIoU']).all():
            raise InputError(f'no pixel scored in {self.num_images} images')
        best = int(np.nanargmax(scores['mIoU']))
        return dict(
            thresholds=self.thresholds.copy(),
            **scores,
            best_index=best,
            best_threshold=float(self.thresholds[best]),
            best_mIoU=float(scores['mIoU'][best]))
