"""ResNet-38 ("ResNet38d") of Wu et al., as used by PSA and SEAM.

`Wider or Deeper: Revisiting the ResNet Model for Visual Recognition
<https://arxiv.org/abs/1611.10080>`_, in the PyTorch port of PSA
(`jiwoon-ahn/psa <https://github.com/jiwoon-ahn/psa>`_,
``network/resnet38d.py``): same layers, same parameter names, so the
ImageNet weights converted by
``tools/model_converters/convert_r38_weights.py`` load with every key
matched.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.errors import MissingInputError

ActOutput = Tuple[torch.Tensor, torch.Tensor]


class ResBlock(nn.Module):
    """Pre-activation residual block with two 3x3 convolutions.

    ``b2 = relu(bn_branch2a(x))`` is both the input of ``conv_branch2a`` and,
    where the shapes differ, of the 1x1 shortcut ``conv_branch1``::

        out = shortcut + conv_branch2b1(relu(bn_branch2b1(conv_branch2a(b2))))

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Channels after ``conv_branch2a``.
        out_channels (int): Output channels.
        stride (int): Stride of ``conv_branch2a`` and of the shortcut.
            Defaults to 1.
        first_dilation (int, optional): Dilation (and padding) of
            ``conv_branch2a``; ``None`` uses ``dilation``. Defaults to None.
        dilation (int): Dilation (and padding) of ``conv_branch2b1``.
            Defaults to 1.
        norm_cfg (dict): Config of the norm layers.
            Defaults to ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 first_dilation: Optional[int] = None,
                 dilation: int = 1,
                 norm_cfg: ConfigType = dict(type='BN')):
        super().__init__()
        self.same_shape = in_channels == out_channels and stride == 1
        if first_dilation is None:
            first_dilation = dilation
        self.bn_branch2a = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv_branch2a = nn.Conv2d(
            in_channels,
            mid_channels,
            3,
            stride,
            padding=first_dilation,
            dilation=first_dilation,
            bias=False)
        self.bn_branch2b1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv_branch2b1 = nn.Conv2d(
            mid_channels,
            out_channels,
            3,
            padding=dilation,
            dilation=dilation,
            bias=False)
        if not self.same_shape:
            self.conv_branch1 = nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> ActOutput:
        """Apply the block.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            tuple[Tensor, Tensor]: The output, of shape
            (N, out_channels, H / stride, W / stride), and the activated
            input ``relu(bn_branch2a(x))``, of shape (N, in_channels, H, W).
        """
        x_act = F.relu(self.bn_branch2a(x))
        shortcut = x if self.same_shape else self.conv_branch1(x_act)
        branch2 = self.conv_branch2a(x_act)
        branch2 = F.relu(self.bn_branch2b1(branch2))
        branch2 = self.conv_branch2b1(branch2)
        return shortcut + branch2, x_act


class ResBlockBot(nn.Module):
    """Pre-activation bottleneck block (1x1, 3x3, 1x1) with channel dropout.

    With ``b2 = relu(bn_branch2a(x))`` and ``drop = Dropout2d(dropout)``::

        h = drop(relu(bn_branch2b1(conv_branch2a(b2))))
        h = drop(relu(bn_branch2b2(conv_branch2b1(h))))
        out = shortcut + conv_branch2b2(h)

    The channels go ``in -> out / 4 -> out / 2 -> out``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, a multiple of 4.
        stride (int): Stride of ``conv_branch2a`` and of the shortcut.
            Defaults to 1.
        dilation (int): Dilation (and padding) of the 3x3 convolution.
            Defaults to 1.
        dropout (float): Drop probability of the two ``Dropout2d`` layers.
            Defaults to 0.
        norm_cfg (dict): Config of the norm layers.
            Defaults to ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 dropout: float = 0.,
                 norm_cfg: ConfigType = dict(type='BN')):
        super().__init__()
        self.same_shape = in_channels == out_channels and stride == 1
        quarter, half = out_channels // 4, out_channels // 2
        self.bn_branch2a = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv_branch2a = nn.Conv2d(
            in_channels, quarter, 1, stride, bias=False)
        self.bn_branch2b1 = build_norm_layer(norm_cfg, quarter)[1]
        self.dropout_2b1 = nn.Dropout2d(dropout)
        self.conv_branch2b1 = nn.Conv2d(
            quarter, half, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn_branch2b2 = build_norm_layer(norm_cfg, half)[1]
        self.dropout_2b2 = nn.Dropout2d(dropout)
        self.conv_branch2b2 = nn.Conv2d(half, out_channels, 1, bias=False)
        if not self.same_shape:
            self.conv_branch1 = nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> ActOutput:
        """Apply the block.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            tuple[Tensor, Tensor]: The output, of shape
            (N, out_channels, H / stride, W / stride), and the activated
            input ``relu(bn_branch2a(x))``, of shape (N, in_channels, H, W).
        """
        x_act = F.relu(self.bn_branch2a(x))
        shortcut = x if self.same_shape else self.conv_branch1(x_act)
        branch2 = self.conv_branch2a(x_act)
        branch2 = self.dropout_2b1(F.relu(self.bn_branch2b1(branch2)))
        branch2 = self.conv_branch2b1(branch2)
        branch2 = self.dropout_2b2(F.relu(self.bn_branch2b2(branch2)))
        branch2 = self.conv_branch2b2(branch2)
        return shortcut + branch2, x_act


@MODELS.register_module()
class ResNet38d(BaseModule):
    """ResNet-38 with dilated last stages (output stride 8), as in PSA.

    A 3x3 stem ``conv1a`` (64 channels), then pre-activation blocks
    ``b2`` ... ``b5_2`` (:class:`ResBlock`), the bottlenecks ``b6`` and
    ``b7`` (:class:`ResBlockBot`, dropout 0.3 and 0.5) and a final ``bn7``.
    ``b2``, ``b3`` and ``b4`` halve the resolution; ``b5`` onwards are
    dilated (2, then 4) instead.

    A pre-activation network has normalised features only after the next
    block's first BN, so the features it returns are those *activated*
    inputs, ``relu(<next block>.bn_branch2a(x))``, and ``relu(bn7(x))`` at
    the end. For an input of shape (N, 3, H, W), ``out_indices`` picks among

    =====  ================================  ========  ======  ==========
    index  feature                           channels  stride  PSA name
    =====  ================================  ========  ======  ==========
    0      activated input of ``b3``         128       2
    1      activated input of ``b4``         256       4
    2      activated input of ``b5``         512       8       ``conv4``
    3      activated input of ``b6``         1024      8       ``conv5``
    4      activated input of ``b7``         2048      8
    5      ``relu(bn7(b7 output))``          4096      8       ``conv6``
    =====  ================================  ========  ======  ==========

    each of shape (N, channels, ceil(H / stride), ceil(W / stride)).

    The defaults are PSA's fine-tuning of the ImageNet weights: BN layers
    frozen (``norm_cfg.requires_grad=False`` and ``norm_eval=True``, BN kept
    in eval mode by :meth:`train`) and the stem frozen (``freeze_stem``:
    ``conv1a``, ``b2``, ``b2_1`` and ``b2_2``, the ``not_training`` layers
    of PSA's ``network/resnet38_cls.py`` and ``network/resnet38_aff.py``).
    Training from scratch, without pretrained weights, needs
    ``norm_eval=False``,
    ``norm_cfg=dict(type='BN', requires_grad=True)`` and
    ``freeze_stem=False``.

    Weights are never downloaded: convert the MXNet ImageNet weights
    (``ilsvrc-cls_rna-a1_cls1000_ep-0001.params``) once with
    ``tools/model_converters/convert_r38_weights.py`` and load the result with
    ``init_cfg=dict(type='Pretrained', checkpoint='path/to.pth')``.

    Args:
        out_indices (Sequence[int]): Which features to return, see the
            table. Defaults to ``(5,)``.
        norm_cfg (dict): Config of every norm layer, for example
            ``dict(type='SyncBN', requires_grad=False)``.
            Defaults to ``dict(type='BN', requires_grad=False)``.
        norm_eval (bool): Keep the BN layers in eval mode (running
            statistics used and not updated) in training. Defaults to True.
        freeze_stem (bool): Exclude ``conv1a``, ``b2``, ``b2_1`` and
            ``b2_2`` from training, as PSA. Defaults to True.
        feature_dropout (float): ``Dropout2d`` on feature 5 (``conv6``):
            0.5 is PSA's ``dropout7`` before the classifier of
            ``resnet38_cls.py``; its AffinityNet has none. Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None (PyTorch's default initialization).
    """

    feat_channels = (128, 256, 512, 1024, 2048, 4096)
    feat_strides = (2, 4, 8, 8, 8, 8)
    # the blocks whose activated inputs are features 0 to 4
    _tap_blocks = dict(b3=0, b4=1, b5=2, b6=3, b7=4)
    _block_names = ('b2', 'b2_1', 'b2_2', 'b3', 'b3_1', 'b3_2', 'b4', 'b4_1',
                    'b4_2', 'b4_3', 'b4_4', 'b4_5', 'b5', 'b5_1', 'b5_2', 'b6',
                    'b7')

    def __init__(self,
                 out_indices: Sequence[int] = (5, ),
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=False),
                 norm_eval: bool = True,
                 freeze_stem: bool = True,
                 feature_dropout: float = 0.,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        num_feats = len(self.feat_channels)
        out_indices = tuple(out_indices)
        if not out_indices or any(
                i not in range(num_feats) for i in out_indices):
            raise ValueError(f'out_indices must be a non-empty sequence of '
                             f'integers in [0, {num_feats - 1}], got '
                             f'{out_indices}')
        self.out_indices = out_indices
        self.out_channels = tuple(self.feat_channels[i] for i in out_indices)
        self.norm_eval = norm_eval
        self.freeze_stem = freeze_stem

        self.conv1a = nn.Conv2d(3, 64, 3, padding=1, bias=False)

        self.b2 = ResBlock(64, 128, 128, stride=2, norm_cfg=norm_cfg)
        self.b2_1 = ResBlock(128, 128, 128, norm_cfg=norm_cfg)
        self.b2_2 = ResBlock(128, 128, 128, norm_cfg=norm_cfg)

        self.b3 = ResBlock(128, 256, 256, stride=2, norm_cfg=norm_cfg)
        self.b3_1 = ResBlock(256, 256, 256, norm_cfg=norm_cfg)
        self.b3_2 = ResBlock(256, 256, 256, norm_cfg=norm_cfg)

        self.b4 = ResBlock(256, 512, 512, stride=2, norm_cfg=norm_cfg)
        self.b4_1 = ResBlock(512, 512, 512, norm_cfg=norm_cfg)
        self.b4_2 = ResBlock(512, 512, 512, norm_cfg=norm_cfg)
        self.b4_3 = ResBlock(512, 512, 512, norm_cfg=norm_cfg)
        self.b4_4 = ResBlock(512, 512, 512, norm_cfg=norm_cfg)
        self.b4_5 = ResBlock(512, 512, 512, norm_cfg=norm_cfg)

        self.b5 = ResBlock(
            512, 512, 1024, first_dilation=1, dilation=2, norm_cfg=norm_cfg)
        self.b5_1 = ResBlock(1024, 512, 1024, dilation=2, norm_cfg=norm_cfg)
        self.b5_2 = ResBlock(1024, 512, 1024, dilation=2, norm_cfg=norm_cfg)

        self.b6 = ResBlockBot(
            1024, 2048, dilation=4, dropout=0.3, norm_cfg=norm_cfg)
        self.b7 = ResBlockBot(
            2048, 4096, dilation=4, dropout=0.5, norm_cfg=norm_cfg)
        self.bn7 = build_norm_layer(norm_cfg, 4096)[1]
        self.dropout7 = nn.Dropout2d(feature_dropout) \
            if feature_dropout > 0 else nn.Identity()

        self._freeze_stem()

    # PSA's not_training (resnet38_cls.py, resnet38_aff.py)
    _stem_names = ('conv1a', 'b2', 'b2_1', 'b2_2')

    def _freeze_stem(self) -> None:
        if self.freeze_stem:
            for name in self._stem_names:
                for param in getattr(self, name).parameters():
                    param.requires_grad = False

    def _pretrained_checkpoints(self) -> List[str]:
        """The checkpoints named by ``Pretrained`` entries of init_cfg."""
        cfgs = self.init_cfg or []
        if isinstance(cfgs, dict):
            cfgs = [cfgs]
        return [
            cfg['checkpoint'] for cfg in cfgs
            if cfg.get('type') == 'Pretrained'
        ]

    def init_weights(self) -> None:
        """Initialize the weights, loading pretrained ones from init_cfg.

        Raises:
            MissingInputError: If a ``Pretrained`` checkpoint is not a local
                file (nothing is ever downloaded).
        """
        for checkpoint in self._pretrained_checkpoints():
            if not osp.isfile(checkpoint):
                raise MissingInputError(
                    f'ResNet38d pretrained checkpoint {checkpoint} not '
                    f'found; convert the MXNet ImageNet weights '
                    f'(ilsvrc-cls_rna-a1_cls1000_ep-0001.params) with '
                    'tools/model_converters/convert_r38_weights.py '
                    f'SRC.params {checkpoint}')
        super().init_weights()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Extract the features selected by ``out_indices``.

        Args:
            x (Tensor): Images of shape (N, 3, H, W).

        Returns:
            tuple[Tensor]: One feature per entry of ``out_indices``, of
            shape (N, C_i, ceil(H / s_i), ceil(W / s_i)) with ``C_i`` and
            ``s_i`` from :attr:`feat_channels` and :attr:`feat_strides`.
        """
        feats: Dict[int, torch.Tensor] = {}
        x = self.conv1a(x)
        for name in self._block_names:
            x, x_act = getattr(self, name)(x)
            index = self._tap_blocks.get(name)
            if index in self.out_indices:
                feats[index] = x_act
        last = len(self.feat_channels) - 1
        if last in self.out_indices:
            feats[last] = self.dropout7(F.relu(self.bn7(x)))
        return tuple(feats[i] for i in self.out_indices)

    def train(self, mode: bool = True) -> 'ResNet38d':
        """Set the training mode, keeping BN in eval mode if ``norm_eval``
        and the stem frozen if ``freeze_stem``."""
        super().train(mode)
        self._freeze_stem()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
