"""Multi-label classification head whose weights give class activation
maps (CAM, Zhou et al., CVPR 2016, arXiv 1512.04150)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class CAMHead(BaseModule):
    """A 1x1 convolution over backbone features, global average pooled into
    logits: PSA's and SEAM's bias-free ``fc8``, or with ``bias=True`` a
    torchvision ResNet's ``fc`` after its pooling (EADER's localizer).

    For features F (N, K, h, w), weights w (C, K) and biases b (C,)::

        cams[n, c]   = w_c . F[n]                           (N, C, h, w)
        logits[n, c] = mean_hw cams[n, c] + b_c = w_c . GAP(F[n]) + b_c

    Both are linear in F, so pooling before or after the 1x1 convolution
    gives the same logits; the head computes the maps once and pools them.
    The bias is not in the maps: Grad-CAM's weights ``d logit_c / dF``
    do not see it.

    Args:
        in_channels (int): channels K of the last backbone feature.
        num_classes (int): foreground classes C. Default: 20 (VOC). A
            config may leave it ``None``: ``mmadv.apis`` fills in the data
            set's count before building (:mod:`mmadv.engine.dataset_fit`).
        dropout (float): ``Dropout2d`` on the features before the
            classifier. Default: 0 (PSA's ``dropout7`` is
            ``ResNet38d(feature_dropout=0.5)``).
        bias (bool): add a bias b to the logits. Default: False (PSA).
        init_cfg (dict, optional): Default: xavier-uniform, as PSA. None:
            PyTorch's own initialisation of the convolution, which for a
            1x1 kernel is ``nn.Linear``'s (EADER's ``fc``).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int = 20,
                 dropout: float = 0.,
                 bias: bool = False,
                 init_cfg=dict(type='Xavier', layer='Conv2d',
                               distribution='uniform')):
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Conv2d(in_channels, num_classes, 1, bias=bias)

    def forward(self, feature: torch.Tensor, weights_grad: bool = True):
        """(N, K, h, w) -> logits (N, C) and raw maps (N, C, h, w).

        With ``weights_grad=False`` the maps take no gradient into the
        classifier's weights (as Grad-CAM weights computed by a backward
        without ``create_graph``, EADER's ``attention_map_wrapper.py``);
        the logits always do.
        """
        feature = self.dropout(feature)
        cams = F.conv2d(feature, self.classifier.weight)
        logits = cams.mean(dim=(2, 3))
        if self.classifier.bias is not None:
            logits = logits + self.classifier.bias
        if not weights_grad:
            cams = F.conv2d(feature, self.classifier.weight.detach())
        return logits, cams
