"""Dense CRF refinement (Kraehenbuehl and Koltun, NeurIPS 2011,
https://arxiv.org/abs/1210.5644) through pydensecrf2: of class
probabilities with the parameters of PSA's ``imutils.crf_inference`` (Ahn
and Kwak, CVPR 2018, https://github.com/jiwoon-ahn/psa), and of a hard
labelling with those of IRN's ``crf_inference_label``.
"""
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
import pydensecrf.densecrf as dcrf
from pydensecrf.utils import unary_from_labels, unary_from_softmax

from ..utils.domain import Domain

# mean-field steps (PSA and IRN: 10); the bound keeps a label's cost sane
STEPS = Domain(0, 100, integer=True)
# divides the spatial deviations; pydensecrf aborts or segfaults once
# (image side x scale_factor) nears 1e8 (seen from 3e6 on an 80 px wide
# image), so the bound keeps even a 10,000 px side far below that
SCALE_FACTOR = Domain(0, 64, low_open=True)
# the confidence of IRN's label CRF in its labels
GT_PROB = Domain(0, 1, low_open=True, high_open=True)


def _check_common(t: int, scale_factor: float) -> None:
    """The checks of the fields both CRFs have."""
    STEPS.check(t, 'crf.t')
    SCALE_FACTOR.check(scale_factor, 'crf.scale_factor')


def _pairwise_crf(image: np.ndarray, num_labels: int, scale_factor: float,
                  sxy: float, srgb: float) -> dcrf.DenseCRF2D:
    """A CRF of ``image`` over ``num_labels`` with both CRFs' Potts terms:
    smoothness (Gaussian, ``sxy = 3 / scale_factor``, ``compat = 3``) and
    appearance (bilateral, ``sxy / scale_factor``, ``srgb``,
    ``compat = 10``)."""
    h, w = image.shape[:2]
    crf = dcrf.DenseCRF2D(w, h, num_labels)
    crf.addPairwiseGaussian(sxy=3 / scale_factor, compat=3)
    crf.addPairwiseBilateral(sxy=sxy / scale_factor, srgb=srgb,
                             rgbim=np.ascontiguousarray(image), compat=10)
    return crf


@dataclass(frozen=True)
class DenseCRF:
    """A fully connected CRF over per-pixel class probabilities.

    The unary is ``-log(probs)`` (probabilities clipped at 1e-5), and two
    pairwise Potts terms as in PSA's ``crf_inference``:

    - smoothness, a Gaussian kernel over positions:
      ``sxy = 3 / scale_factor``, ``compat = 3``;
    - appearance, a bilateral kernel over positions and RGB colours:
      ``sxy = 80 / scale_factor``, ``srgb = 13``, ``compat = 10``;

    followed by ``t`` steps of mean-field inference. The labelers take it
    as their ``crf`` option, a dict of these fields (``dict()`` for PSA's).

    pydensecrf holds about 40 bytes per pixel and label (measured: 2.5 GiB
    at 1500 x 2000 and 9.7 GiB at 3000 x 4000 with 21 labels) and aborts
    the process with a bare ``std::bad_alloc`` when that is not there, so
    the label folders refuse images above ``max_pixels`` before the first
    (:func:`~mmadv.pseudo_labels.image_size.check_image_sizes`).

    Args:
        t (int): Mean-field iterations. Defaults to 10 (PSA).
        scale_factor (float): Divides both spatial standard deviations,
            for images scaled by this factor. Defaults to 1.0 (PSA).
    """

    t: int = 10
    scale_factor: float = 1.0

    def __post_init__(self) -> None:
        _check_common(self.t, self.scale_factor)

    def __call__(self, image: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Refine ``probs`` on ``image``.

        Args:
            image (np.ndarray): ``(H, W, 3)`` uint8 RGB image.
            probs (np.ndarray): ``(n, H, W)`` class probabilities, summing
                to 1 over ``n`` at each pixel.

        Returns:
            np.ndarray: ``(n, H, W)`` float32 refined probabilities.
        """
        return self.refine_each(image, [probs])[0]

    def refine_each(self, image: np.ndarray,
                    probs: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Refine several ``(n, H, W)`` probabilities of one image, as
        :meth:`__call__` each: the pairwise terms, which depend on the image
        only, are built once."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError('image must be (H, W, 3) uint8 RGB, got '
                             f'{image.dtype} {image.shape}')
        probs = [np.asarray(p, dtype=np.float32) for p in probs]
        shapes = {p.shape for p in probs}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(
                iter(shapes))[1:] != image.shape[:2]:
            raise ValueError(f'probs must be (n, H, W) with (H, W) = '
                             f'{image.shape[:2]}, got {sorted(shapes)}')
        n, h, w = probs[0].shape
        crf = _pairwise_crf(image, n, self.scale_factor, sxy=80, srgb=13)
        refined = []
        for p in probs:
            crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(p)))
            refined.append(
                np.array(crf.inference(self.t),
                         dtype=np.float32).reshape(n, h, w))
        return refined


@dataclass(frozen=True)
class LabelCRF:
    """A fully connected CRF over a hard labelling, with the parameters of
    IRN's ``misc/imutils.crf_inference_label`` (Ahn, Cho and Kwak, CVPR
    2019, https://github.com/jiwoon-ahn/irn).

    The unary is pydensecrf's ``unary_from_labels(labels, n, gt_prob,
    zero_unsure=False)``: ``-log(gt_prob)`` for a pixel's label and
    ``-log((1 - gt_prob) / (n - 1))`` for the others; two pairwise Potts
    terms:

    - smoothness: ``sxy = 3 / scale_factor``, ``compat = 3``;
    - appearance: ``sxy = 50 / scale_factor``, ``srgb = 5``,
      ``compat = 10``;

    then ``t`` steps of mean-field inference and the argmax.

    Args:
        t (int): Mean-field iterations. Defaults to 10 (IRN).
        gt_prob (float): Confidence of the given labels. Defaults to 0.7
            (IRN).
        scale_factor (float): Divides both spatial standard deviations,
            for images scaled by this factor. Defaults to 1.0 (IRN).
    """

    t: int = 10
    gt_prob: float = 0.7
    scale_factor: float = 1.0

    def __post_init__(self) -> None:
        _check_common(self.t, self.scale_factor)
        GT_PROB.check(self.gt_prob, 'crf.gt_prob')

    def __call__(self, image: np.ndarray, labels: np.ndarray,
                 num_labels: int) -> np.ndarray:
        """The refined labelling.

        Args:
            image (np.ndarray): ``(H, W, 3)`` uint8 RGB image.
            labels (np.ndarray): ``(H, W)`` integer labels in
                ``0 .. num_labels - 1``.
            num_labels (int): n, at least 2.

        Returns:
            np.ndarray: ``(H, W)`` int64 labels.
        """
        h, w = labels.shape
        crf = _pairwise_crf(image, num_labels, self.scale_factor, sxy=50,
                            srgb=5)
        crf.setUnaryEnergy(np.ascontiguousarray(unary_from_labels(
            labels, num_labels, gt_prob=self.gt_prob, zero_unsure=False)))
        q = np.array(crf.inference(self.t)).reshape(num_labels, h, w)
        return np.argmax(q, axis=0)
