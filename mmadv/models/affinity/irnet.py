"""IRNet's class-boundary branch (Ahn, Cho and Kwak, "Weakly Supervised
Learning of Instance Segmentation with Inter-pixel Relations", CVPR 2019,
https://arxiv.org/abs/1904.05044), after ``net/resnet50_irn.py`` and
``step/train_irn.py`` of https://github.com/jiwoon-ahn/irn."""
from typing import Dict, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList)

from ..utils.affinity_pairs import PAIR_RULES, labels_at, pair_labels
from ..utils.boundary_affinity import boundary_affinity


@MODELS.register_module()
class IRNet(BaseModel):
    """A backbone and IRN's boundary branch: a class-boundary map B whose
    maximum on the line between two pixels gives their affinity.

    Each backbone level ``x_l`` goes through a 1x1 convolution without
    bias to ``level_channels``, a GroupNorm of ``norm_groups`` groups, a
    bilinear resize to the size (h, w) of level ``out_level`` and a ReLU;
    the concatenation through a 1x1 convolution with a bias to one
    channel (IRN's ``fc_edge1`` ... ``fc_edge6``)::

        B = sigmoid(W_6 [ReLU(resize(GN(W_l x_l)))]_l + b_6)   (N, h, w)

    The resize is IRN's: a level of stride ``s_l`` coarser than B's
    ``s`` is upsampled by the integer factor ``s_l / s``
    (``nn.Upsample(scale_factor=...)``, bilinear, no corner alignment) and
    cropped to (h, w) at the top left, so that cell i of every level
    covers the same pixels whatever the input size (a resize to (h, w)
    shifts the coarse levels by up to ``s_l - s`` pixels where the input
    is not a multiple of ``s_l``). A level finer than B (timm's stem
    before the max pool, which IRN does not have) is resized to (h, w).
    The strides are the backbone's ``strides``. As IRN, the backbone is
    frozen by default (``freeze_backbone``): its features are detached
    and its BatchNorms stay in eval mode.

    Affinity of pixels i, j closer than ``radius``
    (:func:`~mmadv.models.utils.boundary_affinity.boundary_affinity`)::

        a_ij = 1 - max_{k on the line from i to j} B_k

    Training (``mode='loss'``): ``gt_sem_seg`` holds relation labels at the
    input size (0 background, ``c + 1`` class c, ``ignore_index`` unknown,
    :class:`~mmadv.pseudo_labels.relation_labels.RelationLabeler`), resized
    to (h, w) by nearest neighbour
    (:func:`~mmadv.models.utils.affinity_pairs.labels_at`), turned into
    pair labels by
    :func:`~mmadv.models.utils.affinity_pairs.pair_labels` and scored with
    ``loss``. IRN's edge loss ``(L_bg / 2 + L_fg / 2 + L_neg) / 2``
    (``train_irn.py``) is PSA's balanced
    :class:`~mmadv.models.losses.AffinityLoss`, the default. The
    displacement (instance) branch is not built.

    Inference (``mode='tensor'``) returns B, (N, h, w).

    Args:
        backbone (dict): Backbone config returning several levels and
            having ``out_channels``, e.g. ``TimmFeatureBackbone`` with
            ``model_name='resnet50'``, ``output_stride=16`` and
            ``out_indices=(0, 1, 2, 3, 4)`` (IRN: torchvision's ResNet-50
            with strides 2, 2, 2, 1; its first level is after the max
            pool, timm's before it).
        out_level (int): The level whose size B has. Defaults to 1 (stride
            4 for a timm ResNet, IRN's).
        level_channels (int): Channels of each level's 1x1 convolution.
            Defaults to 32 (IRN).
        norm_groups (int): GroupNorm groups. Defaults to 4 (IRN).
        radius (int): Pairs closer than this, in pixels of B. Defaults to
            10 (IRN's training radius; its random walk uses 5).
        pair_rule (str): Sources of the pairs
            (:func:`~mmadv.models.utils.affinity_pairs.source_window`).
            Defaults to ``'psa'``, IRN's ``PathIndex``.
        freeze_backbone (bool): Train the boundary branch only. Defaults to
            True (IRN).
        ignore_index (int): Unknown label of ``gt_sem_seg``. Defaults to
            255.
        loss (dict): Loss config. Defaults to ``dict(type='AffinityLoss')``.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 out_level: int = 1,
                 level_channels: int = 32,
                 norm_groups: int = 4,
                 radius: int = 10,
                 pair_rule: str = 'psa',
                 freeze_backbone: bool = True,
                 ignore_index: int = 255,
                 loss: ConfigType = dict(type='AffinityLoss'),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        in_channels = getattr(self.backbone, 'out_channels', None)
        strides = getattr(self.backbone, 'strides', None)
        if in_channels is None or strides is None:
            raise ValueError(f'{type(self.backbone).__name__} has no '
                             'out_channels and strides')
        if not 0 <= out_level < len(in_channels):
            raise ValueError(f'out_level {out_level} is not one of the '
                             f'{len(in_channels)} backbone levels')
        if pair_rule not in PAIR_RULES:
            raise ValueError(f'pair_rule must be one of {PAIR_RULES}, got '
                             f'{pair_rule!r}')
        self.level_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c_in, level_channels, 1, bias=False),
                nn.GroupNorm(norm_groups, level_channels))
            for c_in in in_channels)
        self.boundary_conv = nn.Conv2d(
            level_channels * len(in_channels), 1, 1, bias=True)
        self.out_level = out_level
        self.strides = tuple(strides)
        self.radius = radius
        self.pair_rule = pair_rule
        self.freeze_backbone = freeze_backbone
        self.ignore_index = ignore_index
        self.affinity_loss = MODELS.build(loss)
        if freeze_backbone:
            self.backbone.requires_grad_(False)

    def train(self, mode: bool = True) -> 'IRNet':
        """As ``nn.Module.train``; a frozen backbone stays in eval mode
        (IRN's FixedBatchNorm)."""
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def boundary_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) images -> (N, h, w) logits of B."""
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_backbone):
            feats = self.backbone(inputs)
        size = feats[self.out_level].shape[-2:]
        stride = self.strides[self.out_level]
        levels = []
        for conv, feat, level_stride in zip(self.level_convs, feats,
                                            self.strides):
            level = conv(feat)
            if level_stride > stride:  # IRN's fc_edge3..5
                level = F.interpolate(
                    level, scale_factor=level_stride // stride,
                    mode='bilinear', align_corners=False)
                level = level[..., :size[0], :size[1]]
            elif level.shape[-2:] != size:
                level = F.interpolate(
                    level, size=size, mode='bilinear', align_corners=False)
            levels.append(F.relu(level))
        return self.boundary_conv(torch.cat(levels, dim=1))[:, 0]

    def forward(self,
                inputs: torch.Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor'
                ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """``'loss'``: :meth:`loss`; ``'tensor'``: B, (N, h, w)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return torch.sigmoid(self.boundary_logits(inputs))
        raise RuntimeError(f'Invalid mode "{mode}": IRNet supports "loss" '
                           'and "tensor"')

    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The affinity loss of a batch's boundary maps.

        Args:
            inputs (Tensor): (N, 3, H, W) preprocessed images.
            data_samples (list[SegDataSample]): ``gt_sem_seg`` of shape
                (1, H, W), the relation labels.

        Returns:
            dict[str, Tensor]: The loss's outputs: ``loss_affinity`` and
            the logged terms ``aff_bg``, ``aff_fg``, ``aff_neg``.
        """
        boundary = torch.sigmoid(self.boundary_logits(inputs))
        labels = labels_at(data_samples, boundary.shape[-2:])
        affinity = boundary_affinity(boundary, self.radius, self.pair_rule)
        bg_pos, fg_pos, neg = pair_labels(labels, self.radius,
                                          self.ignore_index, self.pair_rule)
        return self.affinity_loss(affinity, bg_pos, fg_pos, neg)
