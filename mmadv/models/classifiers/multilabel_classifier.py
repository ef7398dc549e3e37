"""Backbone + CAM head: the localizer, and the adversary of the method."""
from typing import Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig


@MODELS.register_module()
class MultiLabelClassifier(BaseModule):
    """A multi-label image classifier: ``head(backbone(x)[-1])``.

    Args:
        backbone (dict): backbone config (``ResNet38d``,
            ``TimmFeatureBackbone``, or any mmseg backbone returning a tuple
            of features).
        head (dict): head config, ``CAMHead`` by default. ``in_channels``
            may be left out: it is read from ``backbone.out_channels[-1]``,
            so swapping the backbone is one config line.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType = dict(type='CAMHead', num_classes=20),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg)
        self.backbone = MODELS.build(backbone)
        head = dict(head)
        if head.get('in_channels') is None:
            if not hasattr(self.backbone, 'out_channels'):
                raise ValueError(
                    f'{type(self.backbone).__name__} has no out_channels: '
                    'set head.in_channels in the config')
            head['in_channels'] = self.backbone.out_channels[-1]
        self.head = MODELS.build(head)

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def forward(self, inputs: torch.Tensor, cam_weights_grad: bool = True
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, H, W) -> logits (N, C) and raw maps (N, C, h, w);
        ``cam_weights_grad``: see :meth:`CAMHead.forward`."""
        return self.head(self.backbone(inputs)[-1], cam_weights_grad)
