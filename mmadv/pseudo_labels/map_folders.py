"""Map folders written by a model over a split: the localizer's
multi-scale maps and the maps refined by AffinityNet's or IRNet's random
walk, one ``.npz`` per image (:mod:`mmadv.datasets.map_io`); resumable,
atomic, sharded over torchrun's ranks.

Example::

    from mmadv.engine import init_model
    from mmadv.pseudo_labels import infer_maps

    model = init_model('configs/adv_erase_r38_voc.py', 'iter_10600.pth')
    infer_maps(model, 'train_aug', 'work_dirs/maps_train_aug',
               scales=(0.5, 1.0, 1.5, 2.0), flip=True)
"""
import os.path as osp
from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..datasets.map_io import folder_classes, read_meta
from ..engine.model_loading import init_model
from ..utils.errors import ConfigError
from .boundary_walk import PAD_SIZE
from .image_size import DEFAULT_MAX_PIXELS, check_image_sizes
from .map_inference import (IMAGE_PIPELINE, BoundaryWalkMaps, MapFunction,
                            MultiScaleMaps, RandomWalkMaps, build_map_dataset,
                            check_scales, infer_map_folder, map_folder_meta,
                            prepare_map_folder)
from .random_walk import embedding_stride


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


def random_walk_maps(model: nn.Module,
                     map_dir: str,
                     split: str,
                     out_dir: str,
                     bg_alpha: float,
                     beta: float,
                     logt: int,
                     num_workers: Optional[int] = None,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> Dict[str, int]:
    """Write the maps of ``map_dir`` refined by AffinityNet's random walk
    (:func:`~mmadv.pseudo_labels.random_walk.affinity_refine_maps`) in the
    same format: ``A'_k = s*_k / (s*_k + s*_bg)`` of the walked scores, so a
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
                       pad_size: int = PAD_SIZE,
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
        pad_size (int): B's input padded to at least this square size
            (IRN's crop size: 512; 0: to a multiple of the coarsest
            stride only, :func:`~mmadv.pseudo_labels.boundary_map`).
        num_workers (int, optional): As :func:`infer_maps`.
        max_pixels (int): As :func:`infer_maps`.

    Returns:
        dict: ``total``, ``skipped`` and ``written`` images of this rank.
    """
    compute = BoundaryWalkMaps(model, map_dir, radius, beta, logt,
                               embedding_stride(model), flip, pad_size)
    stride = compute.stride
    return _refine_folder(
        model, map_dir, split, out_dir, num_workers, max_pixels, compute,
        f'radius {radius}, beta {beta}, 2^{logt} steps, boundary stride '
        f'{stride}, flip {flip}, padded to {pad_size or "the stride"}',
        radius=radius, beta=beta, logt=logt, stride=stride, flip=flip,
        pad_size=pad_size)


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


def infer_maps_from_files(config: str,
                          checkpoint: str,
                          split: str,
                          out_dir: str,
                          scales: Sequence[float],
                          flip: bool,
                          num_workers: Optional[int] = None,
                          max_pixels: int = DEFAULT_MAX_PIXELS
                          ) -> Dict[str, int]:
    """:func:`infer_maps` of the model of the config file ``config`` and
    ``checkpoint`` (:func:`~mmadv.engine.init_model`, on
    ``cuda:LOCAL_RANK`` in a torchrun process); arguments JSON holds, for
    :class:`~mmadv.pipeline.launcher.Launcher`."""
    return infer_maps(init_model(config, checkpoint), split, out_dir, scales,
                      flip, num_workers, max_pixels)
