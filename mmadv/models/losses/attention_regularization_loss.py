"""The area regularization loss that keeps attention off the background."""
import torch
import torch.nn as nn
from mmseg.registry import MODELS


@MODELS.register_module()
class AttentionRegularizationLoss(nn.Module):
    """``beta * L_reg`` with ``L_reg = mean_{k,i,j} A_k[i, j]``, the mean of
    the normalised attention maps (Stammes et al., arXiv 2011.04626): an
    area penalty that stops the maps from spreading to the background,
    replacing the saliency masks of earlier erasing methods.

    Args:
        loss_weight (float): beta. Default: 1e-5 (paper).
        loss_name (str): log key. Default: ``'loss_reg'``.
    """

    def __init__(self, loss_weight: float = 1e-5,
                 loss_name: str = 'loss_reg'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        """maps: (K, H, W) normalised attention maps -> scalar."""
        return self.loss_weight * maps.mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
