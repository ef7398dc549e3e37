"""Trained models from configs and checkpoints, and the map folders they
infer: the localizer's multi-scale maps and the maps refined by
AffinityNet's or IRNet's random walk.

Example::

    from mmadv.apis import infer_maps, init_model

    model = init_model('configs/adv_erase_r38_voc.py', 'iter_10600.pth')
    infer_maps(model, 'train_aug', 'work_dirs/maps_train_aug',
               scales=(0.5, 1.0, 1.5, 2.0), flip=True)
"""
import copy
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from mmseg.registry import MODELS

from ..datasets.map_io import folder_classes, read_meta
from ..pseudo_labels.image_size import DEFAULT_MAX_PIXELS, check_image_sizes
from ..pseudo_labels.map_inference import (IMAGE_PIPELINE, BoundaryWalkMaps,
                                           MapFunction, MultiScaleMaps,
                                           RandomWalkMaps, build_map_dataset,
                                           check_scales, infer_map_folder,
                                           map_folder_meta, prepare_map_folder)
from ..pseudo_labels.random_walk import embedding_stride
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


def _first_keys(keys, limit: int = 3) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def _state_dict_mismatch(model: nn.Module, state: dict) -> str:
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
    return '; '.join(f'{what}: {_first_keys(keys)}' for what, keys in (
        ('missing keys', missing), ('unexpected keys', unexpected),
        ('shape mismatches (checkpoint vs model)', mismatched)) if keys)


def load_checkpoint_strict(model: nn.Module, checkpoint: str,
                           config: str = 'the config') -> dict:
    """Load ``checkpoint`` into ``model`` by mmengine's checkpoint loading,
    every key and shape matching; the loaded checkpoint.

    Raises:
        InputError: One line naming ``checkpoint`` and ``config``, with a
            few missing, unexpected and mismatched keys, or why the file
            cannot be read (it may not exist).
    """
    try:
        loaded = _load_checkpoint(checkpoint, map_location='cpu',
                                  logger='silent')
    except Exception as e:  # any reader error becomes one line
        raise InputError(f'cannot read checkpoint {checkpoint}: '
                         f'{one_line(e)}') from None
    state = loaded.get('state_dict', loaded) if isinstance(loaded,
                                                           dict) else None
    if not isinstance(state, dict):
        raise InputError(f'{checkpoint} holds no state dict')
    mismatch = _state_dict_mismatch(model, state)
    if mismatch:
        raise InputError(f'checkpoint {checkpoint} does not match the model '
                         f'of {config}: {mismatch}')
    _load_checkpoint_to_model(model, loaded, strict=True, logger='silent')
    return loaded


def _drop_pretrained(backbone: dict) -> None:
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
    fit_to_dataset(cfg)
    model_cfg = copy.deepcopy(cfg.model)
    for part in ('localizer', 'adversary'):
        if model_cfg.get(part) and model_cfg[part].get('backbone'):
            _drop_pretrained(model_cfg[part].backbone)
    if model_cfg.get('backbone'):  # e.g. AffinityNet
        _drop_pretrained(model_cfg.backbone)
    model = MODELS.build(model_cfg)
    load_checkpoint_strict(model, checkpoint, cfg.filename or 'the config')
    model.cfg = cfg
    model.checkpoint = checkpoint
    return model.to(select_device(device)).eval()


def _num_workers(cfg: Config, num_workers: Optional[int]) -> int:
    """``num_workers``, by default the config's
    ``train_dataloader.num_workers``; checked."""
    if num_workers is None:
        num_workers = cfg.train_dataloader.get('num_workers', 0)
    if not (isinstance(num_workers, int) and num_workers >= 0):
        raise ConfigError(
            f'num_workers must be an integer >= 0, got {num_workers!r}')
    return num_workers


def _check_sizes(dataset: BaseDataset, max_pixels: int) -> None:
    """Refuse the data set's first image above ``max_pixels``, from the
    headers (:func:`~mmadv.pseudo_labels.image_size.check_image_sizes`),
    before any image is processed."""
    check_image_sizes((dataset.get_data_info(i)['img_path']
                       for i in range(len(dataset))), max_pixels)


def infer_maps(model: nn.Module,
               split: str,
               out_dir: str,
               scales: Sequence[float],
               flip: bool,
               num_workers: Optional[int] = None,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> Dict[str, int]:
    """Write the multi-scale + flip maps of every image of ``split``
    (:func:`~mmadv.pseudo_labels.map_inference.multi_scale_maps`), one
    ``.npz`` per image and a ``meta.json`` (:mod:`.map_io`); resumable
    (files there are kept), atomic, sharded over a process group's ranks.

    Args:
        model (nn.Module): A stage-1 classifier of :func:`init_model`.
        split (str): Image list ``ImageSets/Segmentation/<split>.txt`` of
            the data set of ``model.cfg.train_dataloader``.
        out_dir (str): The map folder; one made with other settings is
            refused.
        scales (Sequence[float]): Resize factors, fused by summation.
        flip (bool): Add the horizontal flip of every scale.
        num_workers (int, optional): Worker processes (on the CPU they
            compute the maps too, see
            :func:`~mmadv.pseudo_labels.map_inference.infer_map_folder`);
            default: the config's ``train_dataloader.num_workers``.
        max_pixels (int): The largest image (H x W) taken; a split with
            a larger one is refused before any map is made (the
            pipeline's setting ``max_pixels``). Defaults to
            :data:`~mmadv.pseudo_labels.image_size.DEFAULT_MAX_PIXELS`.

    Returns:
        dict: ``total``, ``skipped`` and ``written`` images of this rank.
    """
    check_scales(scales)
    num_workers = _num_workers(model.cfg, num_workers)
    dataset = build_map_dataset(model.cfg, split)
    _check_sizes(dataset, max_pixels)
    meta = map_folder_meta(dataset, split, model.cfg.filename,
                           model.checkpoint, scales=list(scales), flip=flip)
    prepare_map_folder(out_dir, meta)
    print_log(
        f'maps of {split} ({len(dataset)} images) -> {out_dir}: scales '
        f'{meta["scales"]}, flip {flip}', logger='current')
    return infer_map_folder(MultiScaleMaps(model, scales, flip), dataset,
                            out_dir, num_workers)


def refine_maps(model: nn.Module,
                map_dir: str,
                split: str,
                out_dir: str,
                bg_alpha: float,
                beta: float,
                logt: int,
                num_workers: Optional[int] = None,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> Dict[str, int]:
    """Write the maps of ``map_dir`` refined by AffinityNet's random walk
    (:func:`~mmadv.pseudo_labels.random_walk.refine_maps`) in the same
    format: ``A'_k = s*_k / (s*_k + s*_bg)`` of the walked scores, so a
    background threshold of 0.5 is PSA's argmax. Resumable, atomic,
    sharded, as :func:`infer_maps`.

    Args:
        model (nn.Module): An ``AffinityNet`` of :func:`init_model`; its
            embedding's stride is measured and recorded.
        map_dir (str): Maps of ``split`` to refine.
        split (str): Image list of the data set of
            ``model.cfg.train_dataloader``.
        out_dir (str): The refined map folder.
        bg_alpha (float): Background exponent (PSA: 16).
        beta (float): Affinity exponent (PSA: 8).
        logt (int): ``2^logt`` random-walk steps (PSA: 8).
        num_workers (int, optional): As :func:`infer_maps`.
        max_pixels (int): As :func:`infer_maps`.

    Returns:
        dict: ``total``, ``skipped`` and ``written`` images of this rank.
    """
    compute = RandomWalkMaps(model, map_dir, bg_alpha, beta, logt,
                             embedding_stride(model))
    stride = compute.stride
    return _refine_folder(
        model, map_dir, split, out_dir, num_workers, max_pixels, compute,
        f'bg_alpha {bg_alpha}, beta {beta}, 2^{logt} steps, embedding '
        f'stride {stride}, {model.pair_rule} pairs within {model.radius}',
        bg_alpha=bg_alpha, beta=beta, logt=logt, stride=stride,
        radius=model.radius, pair_rule=model.pair_rule)


def boundary_walk_maps(model: nn.Module,
                       map_dir: str,
                       split: str,
                       out_dir: str,
                       radius: int,
                       beta: float,
                       logt: int,
                       flip: bool,
                       num_workers: Optional[int] = None,
                       max_pixels: int = DEFAULT_MAX_PIXELS
                       ) -> Dict[str, int]:
    """Write the maps of ``map_dir`` refined by IRN's random walk on an
    IRNet's class-boundary maps
    (:class:`~mmadv.pseudo_labels.map_inference.BoundaryWalkMaps`) in the
    same format: the walked maps divided by their maximum, for IRN's
    background threshold (``sem_seg_bg_thres`` 0.25). Resumable, atomic,
    sharded, as :func:`infer_maps`.

    Args:
        model (nn.Module): An ``IRNet`` of :func:`init_model`; its boundary
            map's stride is measured and recorded.
        map_dir (str): Maps of ``split`` to refine.
        split (str): Image list of the data set of
            ``model.cfg.train_dataloader``.
        out_dir (str): The refined map folder.
        radius (int): The walk's pair radius, in cells of B (IRN: 5).
        beta (float): Affinity exponent (IRN: 10).
        logt (int): ``2^logt`` random-walk steps (IRN's ``exp_times``: 8).
        flip (bool): B averaged with the flipped image's (IRN: True).
        num_workers (int, optional): As :func:`infer_maps`.
        max_pixels (int): As :func:`infer_maps`.

    Returns:
        dict: ``total``, ``skipped`` and ``written`` images of this rank.
    """
    compute = BoundaryWalkMaps(model, map_dir, radius, beta, logt,
                               embedding_stride(model), flip)
    stride = compute.stride
    return _refine_folder(
        model, map_dir, split, out_dir, num_workers, max_pixels, compute,
        f'radius {radius}, beta {beta}, 2^{logt} steps, boundary stride '
        f'{stride}, flip {flip}',
        radius=radius, beta=beta, logt=logt, stride=stride, flip=flip)


def _refine_folder(model: nn.Module, map_dir: str, split: str, out_dir: str,
                   num_workers: Optional[int], max_pixels: int,
                   compute: MapFunction, description: str,
                   **settings) -> Dict[str, int]:
    """The refined map folder of ``map_dir`` by ``compute``, recording the
    maps' record, the model and ``settings``; images above
    ``max_pixels`` refused first."""
    num_workers = _num_workers(model.cfg, num_workers)
    maps_meta = read_meta(map_dir, split)  # maps of this split
    dataset = build_map_dataset(model.cfg, split, IMAGE_PIPELINE)
    _check_sizes(dataset, max_pixels)
    classes, palette = folder_classes(maps_meta)  # the maps' data set
    meta = map_folder_meta(
        dataset, split, model.cfg.filename, model.checkpoint,
        classes=list(classes), palette=palette,
        maps=osp.abspath(map_dir), maps_meta=maps_meta, **settings)
    prepare_map_folder(out_dir, meta)
    print_log(
        f'{type(model).__name__} refinement of {map_dir} ({split}, '
        f'{len(dataset)} images) -> {out_dir}: {description}',
        logger='current')
    return infer_map_folder(compute, dataset, out_dir, num_workers)
