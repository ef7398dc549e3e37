"""Any timm model as a feature backbone, with weights from a local file."""
import os.path as osp
from typing import Optional, Sequence, Tuple

import timm
import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from ...utils.errors import (ConfigError, InputError, MissingInputError,
                             one_line)


def _backbone_state_dict(model_name: str, checkpoint: str) -> dict:
    """The weights in ``checkpoint`` without the classifier of timm's
    ``model_name``: what its feature model must take, all of it."""
    if not osp.isfile(checkpoint):
        raise MissingInputError(
            f'timm checkpoint for {model_name} not found: {checkpoint}')
    try:
        state_dict = timm.models.load_state_dict(checkpoint)
    except Exception as error:
        raise InputError(f'{checkpoint}: not a torch state dict '
                         f'({one_line(error)})') from None
    classifier = getattr(timm.models.get_pretrained_cfg(model_name),
                         'classifier', None) or ()
    prefixes = tuple(f'{name}.' for name in (
        (classifier, ) if isinstance(classifier, str) else classifier))
    return {k: v for k, v in state_dict.items() if not k.startswith(prefixes)}


@MODELS.register_module()
class TimmFeatureBackbone(BaseModule):
    """Feature maps of a timm model (``features_only=True``).

    Unlike mmseg's ``TIMMBackbone`` nothing is downloaded: the model starts
    from random weights unless ``checkpoint`` names a local file, which
    timm loads as the model's pretrained weights, strictly: its classifier
    (timm's ``pretrained_cfg.classifier``, e.g. ``fc``) is dropped and every
    other key must fit. A torchvision ResNet file (``resnet101-5d3b4d8f.pth``
    of EADER's ``load_models.py``) fits timm's ResNet of the same name: the
    architectures and the parameter names are the same.

    Args:
        model_name (str): timm model name, e.g. ``'resnet50d'``,
            ``'convnext_tiny'``, ``'vit_small_patch16_224'``.
        checkpoint (str, optional): local weights (a timm/torchvision
            classification state dict). Default: None (random init).
            A missing file raises ``MissingInputError``, a file that does
            not fit ``InputError``, each naming the file.
        out_indices (Sequence[int], optional): feature levels to return;
            default: the last level only.
        output_stride (int, optional): dilate the last stages to this output
            stride (8, 16 or 32) for models that support it (ResNets,
            ConvNeXt). Default: the model's own.
        init_cfg (dict, optional): mmengine init config.
        **kwargs: further ``timm.create_model`` arguments (``drop_rate``,
            ``drop_path_rate``, ``img_size`` for ViTs, ...); not
            ``pretrained=True``, which would download weights (refused:
            give ``checkpoint``).

    Attributes:
        out_channels (tuple[int]): channels of each returned level.
        strides (tuple[int]): stride of each returned level.
    """

    def __init__(self,
                 model_name: str,
                 checkpoint: Optional[str] = None,
                 out_indices: Optional[Sequence[int]] = None,
                 output_stride: Optional[int] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(init_cfg)
        if kwargs.pop('pretrained', False):
            raise ConfigError(
                f'timm {model_name}: pretrained=True would download weights '
                '(mmadv never does); give checkpoint=<a local file>')
        if checkpoint is not None:
            kwargs.update(
                pretrained=True,
                num_classes=0,
                pretrained_cfg_overlay=dict(
                    state_dict=_backbone_state_dict(model_name, checkpoint),
                    num_classes=0))
        if output_stride is not None:
            kwargs['output_stride'] = output_stride
        try:
            self.timm_model = timm.create_model(
                model_name, features_only=True, **kwargs)
        except RuntimeError as error:
            if checkpoint is None or 'state_dict' not in str(error):
                raise
            # torch's report: a header, then missing, unexpected and
            # mismatched keys, a line each
            report = ' '.join(line.strip() for line in
                              str(error).splitlines()[1:])
            raise InputError(f'{checkpoint} does not fit timm {model_name}: '
                             f'{report[:400]}') from None
        # timm keeps a copy of its pretrained config: not the weights too
        for holder in (self.timm_model, getattr(self.timm_model, 'model',
                                                None)):
            cfg = getattr(holder, 'pretrained_cfg', None)
            if isinstance(cfg, dict):
                cfg.pop('state_dict', None)
        num_levels = len(self.timm_model.feature_info)
        self.out_indices = tuple(
            i % num_levels for i in (out_indices or (num_levels - 1, )))
        info = self.timm_model.feature_info
        self.out_channels = tuple(info.channels()[i] for i in self.out_indices)
        self.strides = tuple(info.reduction()[i] for i in self.out_indices)
        if output_stride is not None:
            self.strides = tuple(min(s, output_stride) for s in self.strides)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, 3, H, W) -> tuple of (N, C_i, H / s_i, W / s_i)."""
        features = self.timm_model(x)
        return tuple(features[i] for i in self.out_indices)
