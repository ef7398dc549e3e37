"""The adversarial (attention mining) loss of the localizer."""
import torch
import torch.nn as nn
from mmseg.registry import MODELS


def attention_mining_loss(adversary_logits: torch.Tensor,
                          pair_classes: torch.Tensor,
                          use_sigmoid: bool = True) -> torch.Tensor:
    """``L_am = mean_k sigmoid(s_k)[c_k]``: the adversary's probability of
    the erased class c_k in erased image k, averaged over the K pairs;
    ``mean_k s_k[c_k]``, the logits themselves, with
    ``use_sigmoid=False``.

    Args:
        adversary_logits (Tensor): (K, C) adversary logits on I*_k.
        pair_classes (Tensor): (K,) erased class of each pair.
        use_sigmoid (bool): score the sigmoid of the logits. Default: True.
    """
    scores = adversary_logits.gather(1, pair_classes.unsqueeze(1))
    return (torch.sigmoid(scores) if use_sigmoid else scores).mean()


@MODELS.register_module()
class AttentionMiningLoss(nn.Module):
    """``alpha * L_am`` (Stammes et al., arXiv 2011.04626): the localizer
    minimises the adversary's confidence in what its maps erased, which
    pushes the maps to cover the whole object.

    Args:
        loss_weight (float): alpha. Default: 0.05 (paper).
        use_sigmoid (bool): L_am on the sigmoid scores (True: EADER's
            ``train.py`` with an adversary, whose output it passes through
            ``torch.sigmoid``) or on the raw logits (False: EADER's
            ``--share_weights`` run, which calls the localizer with
            ``compute_gradcam=False`` and gets logits). Default: True.
        loss_name (str): log key; must start with ``loss_`` to be summed
            into the localizer's loss. Default: ``'loss_am'``.
    """

    def __init__(self, loss_weight: float = 0.05,
                 use_sigmoid: bool = True,
                 loss_name: str = 'loss_am'):
        super().__init__()
        self.loss_weight = loss_weight
        self.use_sigmoid = use_sigmoid
        self._loss_name = loss_name

    def forward(self, adversary_logits: torch.Tensor,
                pair_classes: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * attention_mining_loss(
            adversary_logits, pair_classes, self.use_sigmoid)

    @property
    def loss_name(self) -> str:
        return self._loss_name
