"""Label maps and the one rule that makes them from attention maps, at the
bottom of the package: models, data sets, evaluation and the labelers
all use these.

A label map is an ``(H, W)`` integer array in the data set's label space:
0 background, ``c + 1`` foreground class ``c`` (0-based), and
:data:`IGNORE_INDEX` for pixels not to score or train on.

The rule (PSA, SEAM, the adversarial erasing paper): a pixel is background
where its highest map is below the background threshold ``t``, otherwise
it takes the class of that map::

    label = 0                               where max_k A_k < t
    label = classes[argmax_k A_k] + 1       elsewhere (ties: the first map)

:func:`threshold_labels` is the rule; map evaluation
(:class:`~mmadv.evaluation.ThresholdSweep`, every threshold at once),
pseudo-labels (:class:`~mmadv.pseudo_labels.ThresholdLabeler`), the
classifier's ``predict`` and the figures use it.
"""
from typing import Optional, Tuple

import torch

IGNORE_INDEX = 255  # pixels ignored in training and scoring
# PSA's and SEAM's background threshold of CAMs: the default of
# ThresholdLabeler and of AdversarialErasingClassifier.bg_threshold
DEFAULT_BG_THRESHOLD = 0.25
MAX_CLASS_INDEX = 253  # label = index + 1 must stay below the ignore value


def best_class(maps: torch.Tensor,
               classes: Optional[torch.Tensor] = None
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The highest map and the label of its class, before thresholding.

    Args:
        maps (Tensor): ``(..., K, H, W)`` attention maps.
        classes (Tensor, optional): ``(K,)`` 0-based class indices of the
            maps; None: map ``k`` is class ``k``.

    Returns:
        tuple[Tensor, Tensor]: ``max_k A_k`` ``(..., H, W)`` float64 and
        ``classes[argmax_k A_k] + 1`` ``(..., H, W)`` int64 (ties go to
        the first map); both 0 when K = 0.
    """
    if maps.dim() < 3:
        raise ValueError(f'maps must be (..., K, H, W), got shape '
                         f'{tuple(maps.shape)}')
    if classes is not None:
        classes = classes.reshape(-1).long()
        if maps.shape[-3] != classes.numel():
            raise ValueError(f'maps must be (K, H, W) with K = '
                             f'{classes.numel()} classes, got shape '
                             f'{tuple(maps.shape)}')
        if classes.numel() and (classes.min() < 0
                                or classes.max() > MAX_CLASS_INDEX):
            raise ValueError(f'class indices must be in 0..{MAX_CLASS_INDEX}'
                             f', got {classes.tolist()}')
    shape = maps.shape[:-3] + maps.shape[-2:]
    if maps.shape[-3] == 0:
        return (maps.new_zeros(shape, dtype=torch.float64),
                torch.zeros(shape, dtype=torch.long, device=maps.device))
    score, index = maps.max(dim=-3)
    label = index if classes is None else classes.to(index.device)[index]
    return score.double(), label + 1


def threshold_labels(maps: torch.Tensor,
                     bg_threshold: float,
                     classes: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The rule: ``0`` where ``max_k A_k < bg_threshold``, else
    ``classes[argmax_k A_k] + 1`` (see the module docstring); the
    comparison is made in float64.

    Args:
        maps (Tensor): ``(..., K, H, W)`` attention maps.
        bg_threshold (float): Background threshold.
        classes (Tensor, optional): ``(K,)`` 0-based classes of the maps;
            None: map ``k`` is class ``k``.

    Returns:
        Tensor: ``(..., H, W)`` int64 labels, all 0 when K = 0.
    """
    score, label = best_class(maps, classes)
    return label.masked_fill(score < float(bg_threshold), 0)
