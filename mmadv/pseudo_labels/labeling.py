"""The labelers that turn an image's attention maps into a label, by the
rule of :mod:`mmadv.structures.labels`.

A labeler is a picklable callable ``labeler(classes, maps, image) -> (H,
W) uint8`` label in VOC's label space (0 background, ``c + 1`` class
``c``, 255 ignored), registered in mmseg's ``TASK_UTILS`` and built from
a config dict by :func:`build_labeler`: :class:`ThresholdLabeler` (the
rule, an optional uncertain band) and
:class:`~mmadv.pseudo_labels.affinity_labels.AffinityLabeler` (PSA's
affinity labels); both take a dense CRF as their ``crf`` option.
:class:`ArgmaxLabeler` labels a segmentation network's predictions
(``reads = 'predictions'``, :mod:`~mmadv.datasets.prediction_io`) instead
of maps.
"""
from dataclasses import asdict
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.registry import DefaultScope
from mmseg.registry import TASK_UTILS

from ..datasets.prediction_io import FORMAT as PREDICTIONS
from ..structures.labels import (DEFAULT_BG_THRESHOLD, IGNORE_INDEX,
                                 best_class, threshold_labels)
from ..utils.domain import UNIT
from ..utils.errors import ConfigError
from .crf import DenseCRF


def check_uncertain(uncertain: Sequence[float]) -> Tuple[float, float]:
    """``(low, high)`` as floats; an error unless both are in [0, 1] and
    ``low <= high``."""
    low, high = (float(v) for v in UNIT.check_each(uncertain, 'uncertain'))
    if low > high:
        raise ConfigError('uncertain must be (low, high) with low <= high, '
                          f'got {list(uncertain)}')
    return low, high


def checked_maps(classes: np.ndarray,
                 maps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """An image's ``classes`` as (K,) int64 and ``maps`` as (K, H, W)
    float32, the input of the labelers.

    Raises:
        ValueError: ``maps`` is not (K, H, W) for the K classes.
    """
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[0] != classes.size:
        raise ValueError(f'maps must be (K, H, W) with K = {classes.size}, '
                         f'got {maps.shape}')
    return classes, maps


def build_labeler(cfg: dict):
    """A labeler from its config dict, e.g. ``dict(type='ThresholdLabeler',
    bg_threshold=0.3)``, whatever the default scope (mmseg's registry,
    where the labelers are)."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        return TASK_UTILS.build(cfg)


@TASK_UTILS.register_module()
class ThresholdLabeler:
    """Pseudo-labels by the rule (:func:`threshold_labels`).

    With ``s = max_k A_k`` and ``y = classes[argmax_k A_k] + 1``:

    - default: ``0`` where ``s < bg_threshold``, else ``y``;
    - ``uncertain=(low, high)``: the same, then 255 (ignore) where ``low
      <= s < high``: the threshold the pipeline chose (and its table
      reports) labels every pixel outside the band;
    - ``crf``: the scores ``[A_1, ..., A_K, bg_threshold]`` divided by
      their sum at each pixel are the probabilities of ``[y_1, ..., y_K,
      background]`` (so that their argmax, ties to the foreground, is the
      rule's label), refined by :class:`~mmadv.pseudo_labels.crf.DenseCRF`
      on the image; the label is their argmax. With ``uncertain`` too, the
      pixels where the unrefined ``s`` is in ``[low, high)`` become 255
      afterwards.

    Args:
        bg_threshold (float): Background threshold. Defaults to 0.25
            (PSA, SEAM).
        uncertain (Sequence[float], optional): ``(low, high)``, the band of
            ignored pixels, ``0 <= low <= high <= 1``. Defaults to None.
        crf (dict, optional): :class:`DenseCRF` fields (``dict()`` for
            PSA's); None for no CRF. Defaults to None.
    """

    def __init__(self,
                 bg_threshold: float = DEFAULT_BG_THRESHOLD,
                 uncertain: Optional[Sequence[float]] = None,
                 crf: Optional[dict] = None) -> None:
        self.bg_threshold = float(UNIT.check(bg_threshold, 'bg_threshold'))
        self.uncertain = None if uncertain is None else check_uncertain(
            uncertain)
        self.crf = None if crf is None else DenseCRF(**crf)

    def settings(self) -> dict:
        """What a label folder records of this labeler."""
        return dict(
            labeler=type(self).__name__,
            bg_threshold=self.bg_threshold,
            uncertain=None if self.uncertain is None else list(
                self.uncertain),
            crf=None if self.crf is None else asdict(self.crf))

    def __call__(self,
                 classes: np.ndarray,
                 maps: np.ndarray,
                 image: Optional[np.ndarray] = None) -> np.ndarray:
        """The label of one image.

        Args:
            classes (np.ndarray): ``(K,)`` 0-based foreground classes.
            maps (np.ndarray): ``(K, H, W)`` attention maps in [0, 1].
            image (np.ndarray, optional): ``(H, W, 3)`` uint8 RGB image,
                needed with ``crf``.

        Returns:
            np.ndarray: ``(H, W)`` uint8 with values in
            ``{0, 255} | {c + 1 for c in classes}``.
        """
        classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        maps = np.asarray(maps, dtype=np.float32)
        maps_t, classes_t = torch.from_numpy(maps), torch.from_numpy(classes)
        if self.crf is not None:
            label = self._crf_label(classes, maps, image)
        else:
            label = threshold_labels(maps_t, self.bg_threshold,
                                     classes_t).numpy()
        if self.uncertain is not None:
            low, high = self.uncertain
            score = best_class(maps_t, classes_t)[0].numpy()
            label[(score >= low) & (score < high)] = IGNORE_INDEX
        return label.astype(np.uint8)

    def _crf_label(self, classes: np.ndarray, maps: np.ndarray,
                   image: Optional[np.ndarray]) -> np.ndarray:
        """The argmax of the CRF-refined ``[A_1, ..., A_K, bg_threshold]``
        (normalised), as labels."""
        if image is None:
            raise ValueError('the CRF needs the image')
        if not classes.size:
            return np.zeros(maps.shape[1:], np.int64)
        scores = np.concatenate([
            maps,
            np.full((1, ) + maps.shape[1:], self.bg_threshold, np.float32)
        ])
        probs = scores / np.maximum(scores.sum(0), 1e-12)
        lut = np.append(classes + 1, 0)
        return lut[np.argmax(self.crf(image, probs), axis=0)]


@TASK_UTILS.register_module()
class ArgmaxLabeler:
    """The labels of a segmentation network's predictions (a self-training
    round): each pixel's most probable label, ``y = labels[argmax_k
    P_k]``; with ``uncertain=(low, high)``, 255 (ignore) where its
    probability ``max_k P_k`` is in ``[low, high)``.

    It reads a prediction folder (:mod:`~mmadv.datasets.prediction_io`),
    not maps.

    Args:
        uncertain (Sequence[float], optional): ``(low, high)``, the band of
            ignored pixels, ``0 <= low <= high <= 1``. Defaults to None.
    """

    reads = PREDICTIONS

    def __init__(self, uncertain: Optional[Sequence[float]] = None) -> None:
        self.uncertain = None if uncertain is None else check_uncertain(
            uncertain)

    def settings(self) -> dict:
        """What a label folder records of this labeler."""
        return dict(
            labeler=type(self).__name__,
            uncertain=None if self.uncertain is None else list(
                self.uncertain))

    def __call__(self,
                 labels: np.ndarray,
                 probs: np.ndarray,
                 image: Optional[np.ndarray] = None) -> np.ndarray:
        """The label of one image.

        Args:
            labels (np.ndarray): ``(K,)`` label indices of ``probs``.
            probs (np.ndarray): ``(K, H, W)`` their probabilities.
            image (np.ndarray, optional): Unused.

        Returns:
            np.ndarray: ``(H, W)`` uint8 labels (255 ignored).
        """
        label = np.asarray(labels)[np.argmax(probs, axis=0)].astype(np.uint8)
        if self.uncertain is not None:
            low, high = self.uncertain
            top = np.max(probs, axis=0)
            label[(top >= low) & (top < high)] = IGNORE_INDEX
        return label
