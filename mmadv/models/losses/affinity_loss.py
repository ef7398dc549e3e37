"""The class-balanced affinity loss of AffinityNet (PSA)."""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS


def affinity_loss_terms(affinity: torch.Tensor,
                        bg_pos: torch.Tensor,
                        fg_pos: torch.Tensor,
                        neg: torch.Tensor,
                        eps: float = 1e-5
                        ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The three cross-entropy terms of Ahn and Kwak (CVPR 2018, Eq. 4-6),
    as PSA's ``train_aff.py`` computes them::

        L_bg  = sum_{P_bg}  -log(a + eps)     / (|P_bg|  + eps)
        L_fg  = sum_{P_fg}  -log(a + eps)     / (|P_fg|  + eps)
        L_neg = sum_{P_neg} -log(1 + eps - a) / (|P_neg| + eps)

    summed over every pair of every image of the batch; a term without
    pairs is 0.

    Args:
        affinity (Tensor): (N, P) affinities in (0, 1].
        bg_pos (Tensor): (N, P) bool, background-background pairs.
        fg_pos (Tensor): (N, P) bool, same-class foreground pairs.
        neg (Tensor): (N, P) bool, pairs of different labels.
        eps (float): PSA's 1e-5.

    Returns:
        tuple[Tensor, Tensor, Tensor]: Scalars ``L_bg``, ``L_fg``,
        ``L_neg``.
    """
    pos_nll = -torch.log(affinity + eps)
    neg_nll = -torch.log(1. + eps - affinity)

    def term(nll: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.to(nll.dtype)
        return (nll * mask).sum() / (mask.sum() + eps)

    return term(pos_nll, bg_pos), term(pos_nll, fg_pos), term(neg_nll, neg)


@MODELS.register_module()
class AffinityLoss(nn.Module):
    """``loss_weight * (L_bg / 4 + L_fg / 4 + L_neg / 2)``, PSA's balanced
    affinity loss (see :func:`affinity_loss_terms`): positive pairs are
    split into background and foreground so that the abundant background
    pairs do not dominate.

    Args:
        loss_weight (float): Weight of the total. Defaults to 1.0 (PSA).
        loss_name (str): Log key of the total; must start with ``loss_``
            to be summed into the backward. Defaults to
            ``'loss_affinity'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_affinity'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, affinity: torch.Tensor, bg_pos: torch.Tensor,
                fg_pos: torch.Tensor,
                neg: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Args as :func:`affinity_loss_terms`.

        Returns:
            dict[str, Tensor]: ``{loss_name: total}`` and, detached for
            logging only (their keys do not contain ``loss``), the
            unweighted terms ``aff_bg``, ``aff_fg`` and ``aff_neg``.
        """
        bg, fg, neg = affinity_loss_terms(affinity, bg_pos, fg_pos, neg)
        total = self.loss_weight * (bg / 4 + fg / 4 + neg / 2)
        return {
            self.loss_name: total,
            'aff_bg': bg.detach(),
            'aff_fg': fg.detach(),
            'aff_neg': neg.detach()
        }

    @property
    def loss_name(self) -> str:
        return self._loss_name
