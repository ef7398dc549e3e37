"""AffinityNet (Ahn and Kwak, "Learning Pixel-level Semantic Affinity with
Image-level Supervision for Weakly Supervised Semantic Segmentation",
CVPR 2018, https://arxiv.org/abs/1803.10464), after PSA's
``network/resnet38_aff.py`` and ``train_aff.py``
(https://github.com/jiwoon-ahn/psa)."""
from typing import Dict, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList)

from ..utils.affinity_pairs import (PAIR_RULES, check_distance, labels_at,
                                    pair_affinity, pair_labels)


@MODELS.register_module()
class AffinityNet(BaseModel):
    """A backbone and a feature embedding whose L1 distances give the
    semantic affinity of nearby pixels.

    Embedding (PSA's ``f8_3``, ``f8_4``, ``f8_5`` and ``f9``): each
    backbone level ``x_l`` of shape (N, C_l, h_l, w_l) is reduced by a 1x1
    convolution without bias and an ELU, resized (bilinear) to the first
    level's size (h, w) if it differs; the concatenation goes through a 1x1
    convolution to ``embed_channels`` and an ELU::

        f = ELU(W_9 [resize(ELU(W_l x_l))]_l)          (N, D, h, w)

    Affinity of pixels i, j closer than ``radius`` (see
    :func:`~mmadv.models.utils.affinity_pairs.pair_affinity`)::

        a_ij = exp(-||f_i - f_j||_1)         distance='sum' (paper, Eq. 1)
        a_ij = exp(-mean_d |f_i - f_j|_d)    distance='mean' (PSA's code)

    With 'sum' the distance grows with ``embed_channels``: at PSA's
    initialisation with 448 channels the L1 distances are in the hundreds,
    the affinities underflow to 0 and no gradient reaches the embedding
    (seen with a small timm backbone); PSA trained with 'mean'.

    Training (``mode='loss'``): ``gt_sem_seg`` holds affinity labels at
    the input size (0 background, ``c + 1`` class c, ``ignore_index``
    unknown, as :func:`~mmadv.pseudo_labels.affinity_labels.affinity_labels`
    writes them); they are resized to (h, w) by nearest neighbour
    (:func:`~mmadv.models.utils.affinity_pairs.labels_at`), turned into
    pair labels by
    :func:`~mmadv.models.utils.affinity_pairs.pair_labels` and scored with
    ``loss`` (PSA's balanced :class:`~mmadv.models.losses.AffinityLoss`).
    The stock ``train_step`` with one ``OptimWrapper`` trains it;
    PSA's 10x learning rate of the new layers is
    ``paramwise_cfg=dict(custom_keys=dict(level_convs=dict(lr_mult=10),
    embed_conv=dict(lr_mult=10)))``.

    Inference (``mode='tensor'``) returns the embedding f;
    :func:`mmadv.pseudo_labels.random_walk.affinity_refine_maps` propagates
    maps with it. There is no ``'predict'`` mode.

    The new layers are initialised as PSA's: Kaiming normal for the level
    convolutions, Xavier uniform with gain 4 for the embedding.

    Args:
        backbone (dict): Backbone config returning several levels and
            having ``out_channels``, e.g. ``ResNet38d`` with
            ``out_indices=(2, 3, 5)`` (PSA's conv4, conv5, conv6) or
            ``TimmFeatureBackbone`` with ``out_indices``.
        feature_channels (Sequence[int]): Channels of each level after its
            1x1 convolution, one per backbone level. Defaults to
            ``(64, 128, 256)`` (PSA).
        embed_channels (int): D. Defaults to 448 (PSA).
        radius (int): Pairs closer than this, in embedding pixels.
            Defaults to 5 (PSA).
        pair_rule (str): Which of those pairs the loss and the random walk
            use (:func:`~mmadv.models.utils.affinity_pairs.source_window`):
            ``'psa'``, PSA's, whose sources keep ``radius - 1`` pixels off
            the left, right and bottom edges, or ``'all'``, every pair in
            the grid. Defaults to ``'psa'``.
        distance (str): ``'sum'`` or ``'mean'``, see above. Defaults to
            ``'sum'``.
        ignore_index (int): Unknown label of ``gt_sem_seg``.
            Defaults to 255.
        loss (dict): Loss config. Defaults to ``dict(type='AffinityLoss')``.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 feature_channels: Sequence[int] = (64, 128, 256),
                 embed_channels: int = 448,
                 radius: int = 5,
                 pair_rule: str = 'psa',
                 distance: str = 'sum',
                 ignore_index: int = 255,
                 loss: ConfigType = dict(type='AffinityLoss'),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        check_distance(distance)
        self.backbone = MODELS.build(backbone)
        in_channels = getattr(self.backbone, 'out_channels', None)
        if in_channels is None:
            raise ValueError(f'{type(self.backbone).__name__} has no '
                             'out_channels')
        if len(in_channels) != len(feature_channels):
            raise ValueError(
                f'feature_channels {tuple(feature_channels)} needs one '
                f'entry per backbone level {tuple(in_channels)}')
        self.level_convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 1, bias=False)
            for c_in, c_out in zip(in_channels, feature_channels))
        self.embed_conv = nn.Conv2d(
            sum(feature_channels), embed_channels, 1, bias=False)
        for conv in self.level_convs:
            nn.init.kaiming_normal_(conv.weight)
        nn.init.xavier_uniform_(self.embed_conv.weight, gain=4)
        if pair_rule not in PAIR_RULES:
            raise ValueError(f'pair_rule must be one of {PAIR_RULES}, got '
                             f'{pair_rule!r}')
        self.radius = radius
        self.pair_rule = pair_rule
        self.distance = distance
        self.ignore_index = ignore_index
        self.affinity_loss = MODELS.build(loss)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) images -> (N, D, h, w) embedding f, (h, w) the size
        of the first backbone level."""
        feats = self.backbone(inputs)
        size = feats[0].shape[-2:]
        levels = []
        for conv, feat in zip(self.level_convs, feats):
            level = F.elu(conv(feat))
            if level.shape[-2:] != size:
                level = F.interpolate(
                    level, size=size, mode='bilinear', align_corners=False)
            levels.append(level)
        return F.elu(self.embed_conv(torch.cat(levels, dim=1)))

    def forward(self,
                inputs: torch.Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor'
                ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """``'loss'``: :meth:`loss`; ``'tensor'``: :meth:`embed`."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.embed(inputs)
        if mode == 'predict':
            raise NotImplementedError(
                'AffinityNet has no predict mode: refine attention maps '
                'with mmadv.pseudo_labels.random_walk.affinity_refine_maps')
        raise RuntimeError(f'Invalid mode "{mode}": AffinityNet supports '
                           '"loss" and "tensor"')

    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The affinity loss of a batch.

        Args:
            inputs (Tensor): (N, 3, H, W) preprocessed images.
            data_samples (list[SegDataSample]): ``gt_sem_seg`` of shape
                (1, H, W), the affinity labels.

        Returns:
            dict[str, Tensor]: The loss's outputs: ``loss_affinity`` and
            the logged terms ``aff_bg``, ``aff_fg``, ``aff_neg``.
        """
        embedding = self.embed(inputs)
        labels = labels_at(data_samples, embedding.shape[-2:])
        affinity = pair_affinity(embedding, self.radius, self.distance,
                                 self.pair_rule)
        bg_pos, fg_pos, neg = pair_labels(labels, self.radius,
                                          self.ignore_index, self.pair_rule)
        return self.affinity_loss(affinity, bg_pos, fg_pos, neg)
