"""One optimizer wrapper per sub-network, built from one config."""
import copy

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` whose keys are attributes of the model.

    mmengine's Runner builds several optimizers from a config only through
    a registered constructor, and mmseg ships none; this follows mmagic's
    ``MultiOptimWrapperConstructor``. Each key's config is an ordinary
    optimizer-wrapper config with its own ``paramwise_cfg`` (and optionally
    its own ``constructor``), applied to ``model.<key>``::

        optim_wrapper = dict(
            constructor='MultiOptimWrapperConstructor',
            localizer=dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.01, weight_decay=5e-4),
                paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10)})),
            adversary=dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.01, weight_decay=5e-4)))

    A key set to None is left out, so a config drops a sub-network of its
    base with ``optim_wrapper = dict(adversary=None)``.

    Args:
        optim_wrapper_cfg (dict): key -> optimizer wrapper config.
        paramwise_cfg (dict, optional): must be None; set it per key.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None):
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError('optim_wrapper_cfg should be a dict, got '
                            f'{type(optim_wrapper_cfg)}')
        if paramwise_cfg is not None:
            raise ValueError('set paramwise_cfg inside each key of '
                             'optim_wrapper, not at its top level')
        self.constructors = {}
        for key, cfg in optim_wrapper_cfg.items():
            if cfg is None:
                continue
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise ValueError(f'optim_wrapper.{key} must be an optimizer '
                                 f'wrapper config with an optimizer, got '
                                 f'{cfg!r}')
            cfg = copy.deepcopy(dict(cfg))
            self.constructors[key] = OPTIM_WRAPPER_CONSTRUCTORS.build(
                dict(
                    type=cfg.pop('constructor',
                                 'DefaultOptimWrapperConstructor'),
                    optim_wrapper_cfg=cfg,
                    paramwise_cfg=cfg.pop('paramwise_cfg', None)))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for key, constructor in self.constructors.items():
            module = getattr(model, key, None)
            if not isinstance(module, nn.Module):
                raise AttributeError(
                    f'optim_wrapper.{key}: {type(model).__name__} has no '
                    f'sub-network {key!r}')
            wrappers[key] = constructor(module)
        return OptimWrapperDict(**wrappers)
