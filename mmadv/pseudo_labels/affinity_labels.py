"""AffinityNet's training labels from attention maps (PSA, Ahn and Kwak,
CVPR 2018, https://arxiv.org/abs/1803.10464, Sec. 3.3).

Confident foreground comes from a background score that is weak
(low alpha), confident background from one that is strong (high alpha);
what the two disagree on is left unknown. Follows PSA's ``infer_cls.py``
(``_crf_with_alpha``) and ``voc12/data.py`` (``VOC12AffDataset``) of
https://github.com/jiwoon-ahn/psa.
"""
from dataclasses import asdict
from typing import List, Optional

import numpy as np
from mmseg.registry import TASK_UTILS

from ..structures.labels import IGNORE_INDEX
from ..utils.domain import Domain
from ..utils.errors import ConfigError
from .crf import DenseCRF
from .labeling import checked_maps

# the background exponents: (1 - max)^alpha must stay a score in [0, 1]
ALPHA = Domain(0)


@TASK_UTILS.register_module()
class AffinityLabeler:
    """The affinity label of an image's maps, in VOC's label space.

    For ``alpha`` in (``low_alpha``, ``high_alpha``) the scores
    ``[(1 - max_k A_k)^alpha, A_1, ..., A_K]`` are refined by the dense CRF
    (``crf``) and ``y_alpha`` is their argmax (0 background, k + 1 map k).
    Then, as PSA's ``VOC12AffDataset``::

        label = classes[y_low - 1] + 1
        label[y_low == 0] = 255          (not confident foreground)
        label[y_high == 0] = 0           (confident background)

    As PSA's ``_crf_with_alpha``, the scores go to the CRF unnormalised:
    its unary is ``-log(max(score, 1e-5))``; dividing the scores by their
    sum at each pixel would add the same constant to all of a pixel's
    unaries, which mean-field inference ignores (up to that clip).

    PSA keeps the argmax index 1..K in its labels; the class label
    ``c + 1`` used here gives the same pairs (only equality matters) and a
    VOC-coloured PNG.

    Args:
        low_alpha (float): Exponent of the foreground-confident background
            score (PSA's ``infer_cls.py``: 4).
        high_alpha (float): Exponent of the background-confident background
            score (PSA: 32).
        crf (dict, optional): :class:`~mmadv.pseudo_labels.crf.DenseCRF`
            fields (``dict()`` for PSA's, which PSA uses); None skips the
            CRF (plain argmax). Defaults to None.
    """

    def __init__(self,
                 low_alpha: float,
                 high_alpha: float,
                 crf: Optional[dict] = None) -> None:
        ALPHA.check_each((low_alpha, high_alpha), 'affinity alphas')
        if low_alpha > high_alpha:
            raise ConfigError(
                f'low_alpha {low_alpha} > high_alpha {high_alpha}')
        self.low_alpha = low_alpha
        self.high_alpha = high_alpha
        self.crf = None if crf is None else DenseCRF(**crf)

    def settings(self) -> dict:
        """What a label folder records of this labeler."""
        return dict(
            labeler=type(self).__name__,
            affinity=[self.low_alpha, self.high_alpha],
            crf=None if self.crf is None else asdict(self.crf))

    def _background_argmaxes(self, maps: np.ndarray,
                             image: np.ndarray) -> List[np.ndarray]:
        """For each alpha, ``argmax`` over ``[(1 - max_k A_k)^alpha, A_1,
        ..., A_K]``, after the CRF if any: (H, W) int, 0 for background,
        k + 1 for map k."""
        top = 1. - maps.max(axis=0, keepdims=True)
        scores = [
            np.concatenate([np.power(top, alpha), maps]).astype(np.float32)
            for alpha in (self.low_alpha, self.high_alpha)
        ]
        if self.crf is not None:
            scores = self.crf.refine_each(image, scores)
        return [np.argmax(s, axis=0) for s in scores]

    def __call__(self, classes: np.ndarray, maps: np.ndarray,
                 image: np.ndarray) -> np.ndarray:
        """The label of one image.

        Args:
            classes (np.ndarray): (K,) 0-based foreground classes.
            maps (np.ndarray): (K, H, W) attention maps in [0, 1] of
                ``classes``.
            image (np.ndarray): (H, W, 3) uint8 RGB image (used by the CRF
                only).

        Returns:
            np.ndarray: (H, W) uint8 with values in
            ``{0, 255} | {c + 1 for c in classes}``; all 0 without classes.
        """
        classes, maps = checked_maps(classes, maps)
        if not classes.size:
            return np.zeros(maps.shape[1:], np.uint8)
        low, high = self._background_argmaxes(maps, image)
        lut = np.append(IGNORE_INDEX, classes + 1)
        label = lut[low]
        label[high == 0] = 0
        return label.astype(np.uint8)
