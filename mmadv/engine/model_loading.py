"""Trained models from their configs and checkpoints, strictly: every
weight from the checkpoint, a checkpoint that does not fit refused in one
line naming its first differing keys.

Example::

    from mmadv.engine import init_model

    model = init_model('configs/adv_erase_r38_voc.py', 'iter_10600.pth')
"""
import copy
import os
import os.path as osp
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from mmseg.registry import MODELS

from ..utils.errors import ConfigError, InputError, MissingInputError, one_line
from .dataset_fit import fit_to_dataset


def select_device(name: Optional[str] = None) -> torch.device:
    """``'cpu'``, ``'cuda'`` (``cuda:<LOCAL_RANK>``), ``'cuda:N'`` or None
    (CUDA when available)."""
    if name == 'cpu' or (name is None and not torch.cuda.is_available()):
        return torch.device('cpu')
    if not torch.cuda.is_available():
        raise ConfigError(f'device {name}: CUDA is not available')
    if name in (None, 'cuda'):
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
    return torch.device(name)


def first_keys(keys, limit: int = 3) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def state_dict_mismatch(model: nn.Module, state: dict) -> str:
    """'' when ``state`` fits ``model`` key by key and shape by shape, else
    a few missing, unexpected and mismatched keys."""
    state = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items()
    }
    expected = model.state_dict()
    missing = expected.keys() - state.keys()
    unexpected = state.keys() - expected.keys()
    mismatched = [
        f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in state and hasattr(state[k], 'shape')
        and state[k].shape != v.shape
    ]
    return '; '.join(f'{what}: {first_keys(keys)}' for what, keys in (
        ('missing keys', missing), ('unexpected keys', unexpected),
        ('shape mismatches (checkpoint vs model)', mismatched)) if keys)


def read_checkpoint(checkpoint: str) -> dict:
    """``checkpoint`` read onto the CPU by mmengine's checkpoint loading.

    Raises:
        InputError: One line naming the file and why it cannot be read
            (it may not exist).
    """
    try:
        return _load_checkpoint(checkpoint, map_location='cpu',
                                logger='silent')
    except Exception as e:  # any reader error becomes one line
        raise InputError(f'cannot read checkpoint {checkpoint}: '
                         f'{one_line(e)}') from None


def load_checkpoint_strict(model: nn.Module, checkpoint: str,
                           config: str = 'the config') -> dict:
    """Load ``checkpoint`` into ``model`` by mmengine's checkpoint loading,
    every key and shape matching; the loaded checkpoint.

    Raises:
        InputError: One line naming ``checkpoint`` and ``config``, with a
            few missing, unexpected and mismatched keys, or why the file
            cannot be read (it may not exist).
    """
    loaded = read_checkpoint(checkpoint)
    state = loaded.get('state_dict', loaded) if isinstance(loaded,
                                                           dict) else None
    if not isinstance(state, dict):
        raise InputError(f'{checkpoint} holds no state dict')
    mismatch = state_dict_mismatch(model, state)
    if mismatch:
        raise InputError(f'checkpoint {checkpoint} does not match the model '
                         f'of {config}: {mismatch}')
    _load_checkpoint_to_model(model, loaded, strict=True, logger='silent')
    return loaded


def drop_pretrained(backbone: dict) -> None:
    """Drop the ImageNet weights a backbone config names: the checkpoint
    provides every weight."""
    init_cfg = backbone.get('init_cfg')
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    if any(c and c.get('type') == 'Pretrained' for c in cfgs):
        backbone.init_cfg = None
    if backbone.get('checkpoint') is not None:  # TimmFeatureBackbone
        backbone.checkpoint = None


def init_model(config: Union[str, Config],
               checkpoint: str,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> nn.Module:
    """A trained model (the stage-1 classifier or AffinityNet) from its
    config and checkpoint, as ``mmseg.apis.init_model`` but strict: every
    weight from the checkpoint (the backbones' ImageNet weights are not
    read), a checkpoint that does not fit refused in one line.

    Args:
        config (str | Config): The config (file) of the model.
        checkpoint (str): Its checkpoint.
        device (str, optional): See :func:`select_device`.
        cfg_options (dict, optional): Config overrides.

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``cfg`` (the
        merged config) and ``checkpoint`` (the path) attributes.
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise MissingInputError(f'config {config} not found')
        config = Config.fromfile(config)
    cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = build_model(fit_to_dataset(cfg))
    load_checkpoint_strict(model, checkpoint, cfg.filename or 'the config')
    model.checkpoint = checkpoint
    return model.to(select_device(device)).eval()


def build_model(cfg: Config) -> nn.Module:
    """The model of ``cfg`` (fitted to its data set,
    :func:`~mmadv.engine.fit_to_dataset`) with random weights: no
    backbone's ImageNet weights are read (:func:`drop_pretrained`), for a
    checkpoint to fill or a benchmark to time. It has a ``cfg`` attribute
    (the config)."""
    model_cfg = copy.deepcopy(cfg.model)
    for part in ('localizer', 'adversary'):
        if model_cfg.get(part) and model_cfg[part].get('backbone'):
            drop_pretrained(model_cfg[part].backbone)
    if model_cfg.get('backbone'):  # e.g. AffinityNet
        drop_pretrained(model_cfg.backbone)
    model = MODELS.build(model_cfg)
    model.cfg = cfg
    return model
