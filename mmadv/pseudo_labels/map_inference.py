"""Attention-map inference over a data set (stage 2 of the pipeline).

The trained localizer's class activation maps of every image of a split,
fused over scales and horizontal flips as PSA does (Ahn and Kwak, CVPR
2018, https://arxiv.org/abs/1803.10464, ``infer_cls.py`` of
jiwoon-ahn/psa), or maps refined by AffinityNet's random walk, written in
the format of :mod:`.map_io` by :func:`infer_map_folder`.
:mod:`.map_folders` writes them over a split.
"""
import abc
import contextlib
import copy
import glob
import os
import os.path as osp
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import BaseDataset, DefaultSampler
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample

from ..datasets.layout import innermost_dataset, split_file
from ..datasets.map_io import (META_FILE, folder_classes, load_maps, map_path,
                               read_meta, save_maps, write_meta)
from ..utils.atomic import remove_temp_files
from ..utils.console import progress_bar
from ..utils.domain import Domain
from ..utils.errors import ConfigError, InputError, one_line
from ..utils.provenance import changes, file_sha256
from ..utils.worker_pool import imap_unordered
from .boundary_walk import PAD, RADIUS, boundary_map, boundary_refine_maps
from .random_walk import BETA, BG_ALPHA, LOGT, affinity_refine_maps

MAP_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs')]
# original images, no labels: the classes come from the map files
IMAGE_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]

Localizer = Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]


# a resize factor of map inference (PSA: 0.5 to 2); the bound keeps an
# image's forward passes within reach of its memory
SCALE = Domain(0, 4, low_open=True)


def check_scales(scales: Sequence[float]) -> None:
    """Raise a :class:`ConfigError` unless ``scales`` are resize factors
    (at least one, each in :data:`SCALE`)."""
    if not len(scales):
        raise ConfigError('scales must not be empty')
    SCALE.check_each(scales, 'scales')


@torch.no_grad()
def multi_scale_maps(localizer: Localizer,
                     image: torch.Tensor,
                     classes: torch.Tensor,
                     scales: Sequence[float],
                     flip: bool,
                     eps: float = 1e-5) -> torch.Tensor:
    """Attention maps of the labelled classes, fused over scales and flips.

    Follows PSA's ``infer_cls.py``: for every scale ``s`` the image is
    resized bilinearly (align_corners=False) to ``(round(H s), round(W s))``
    and, with ``flip``, also flipped horizontally (``T``); then::

        S = sum_{s, t} T_t^{-1}(up_{H, W}(ReLU(cams_{s, t}[classes])))
        A = S / (max_{x, y} S + eps)        (per class map)

    The normalisation comes after the sum (PSA), not per scale; a class
    whose maps are all zero stays zero.

    The views go through the localizer one at a time (PSA batches the
    image with its flip) and are added to ``S`` as they come, so the peak
    memory is one forward pass at the largest scale plus the (K, H, W)
    sum and one upsampled view, not every view at once.

    Args:
        localizer (callable): ``(N, 3, h, w) -> (logits (N, C),
            cams (N, C, h', w'))``, the raw class activation maps, e.g.
            ``model.localizer``.
        image (Tensor): (3, H, W) normalised image.
        classes (Tensor): (K,) long indices of the image's labelled
            foreground classes (0-based).
        scales (Sequence[float]): Resize factors (PSA: 0.5, 1.0, 1.5, 2.0).
        flip (bool): Add the horizontal flip of every scale (PSA: True).
        eps (float): Normalisation epsilon. Default: 1e-5 (PSA).

    Returns:
        Tensor: (K, H, W) float maps in [0, 1), ``A[k]`` of ``classes[k]``.
    """
    if image.dim() != 3:
        raise ValueError(f'image must be (3, H, W), got {tuple(image.shape)}')
    check_scales(scales)
    height, width = image.shape[-2:]
    classes = torch.as_tensor(classes, dtype=torch.long,
                              device=image.device).reshape(-1)
    total = image.new_zeros((classes.numel(), height, width))
    if not classes.numel():
        return total
    for scale in scales:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        resized = image[None]
        if size != (height, width):
            resized = F.interpolate(
                resized, size=size, mode='bilinear', align_corners=False)
        for flipped in (False, True) if flip else (False, ):
            _, cams = localizer(resized.flip(-1) if flipped else resized)
            cams = F.interpolate(
                F.relu(cams[:, classes]).float(),
                size=(height, width),
                mode='bilinear',
                align_corners=False)[0]
            total += cams.flip(-1) if flipped else cams
            del cams  # before the next view's forward pass
    peak = total.flatten(1).max(dim=1).values
    return total / (peak[:, None, None] + eps)


def preprocess_image(data_preprocessor: nn.Module,
                     item: dict) -> Tuple[torch.Tensor, SegDataSample]:
    """The image of one packed dataset item as the model sees it at test
    time.

    Args:
        data_preprocessor (nn.Module): the model's preprocessor (mean, std
            and ``bgr_to_rgb`` from the config), run with
            ``training=False``; test-time padding, if configured, is cropped
            away.
        item (dict): ``inputs`` (3, H, W) uint8 and ``data_samples``.

    Returns:
        tuple: the (3, H, W) normalised image on the preprocessor's device
        and the preprocessed data sample.
    """
    height, width = item['inputs'].shape[-2:]
    data = data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
        False)
    return data['inputs'][0, :, :height, :width], data['data_samples'][0]


def preprocess_item(data_preprocessor: nn.Module,
                    item: dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """One dataset item as the model sees it at test time, with its
    classes (:func:`preprocess_image`).

    Args:
        data_preprocessor (nn.Module): the model's preprocessor.
        item (dict): ``inputs`` (3, H, W) uint8 and ``data_samples`` with
            ``gt_class_labels`` (C,), as ``PackWeakSegInputs`` packs them.

    Returns:
        tuple[Tensor, Tensor]: the (3, H, W) normalised image on the
        preprocessor's device and the (K,) long indices of the labelled
        classes.
    """
    image, data_sample = preprocess_image(data_preprocessor, item)
    classes = data_sample.gt_class_labels.nonzero(as_tuple=True)[0]
    return image, classes


class MapFunction(metaclass=abc.ABCMeta):
    """The maps of one dataset item by a model: ``(item, name) ->
    (classes (K,), maps (K, H, W))``, for :func:`infer_map_folder`.

    Args:
        model (nn.Module): the model, in eval mode, on its device.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    @property
    def device(self) -> torch.device:
        """Where the model computes."""
        return next(self.model.parameters()).device

    @abc.abstractmethod
    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(classes (K,), maps (K, H, W))`` of a packed item and its
        image name."""


class MultiScaleMaps(MapFunction):
    """The maps of one dataset item by :func:`multi_scale_maps`.

    Args:
        model (nn.Module): with ``localizer`` and ``data_preprocessor``
            (e.g. ``AdversarialErasingClassifier``), on its device, in
            eval mode.
        scales, flip: see :func:`multi_scale_maps`.
    """

    def __init__(self, model: nn.Module, scales: Sequence[float],
                 flip: bool) -> None:
        super().__init__(model)
        self.scales = scales
        self.flip = flip

    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(classes (K,), maps (K, H, W))`` of an item of
        ``PackWeakSegInputs`` (``name`` is not needed)."""
        image, classes = preprocess_item(self.model.data_preprocessor, item)
        maps = multi_scale_maps(self.model.localizer, image, classes,
                                self.scales, self.flip)
        return classes.cpu().numpy(), maps.cpu().numpy()


def _image_maps(map_dir: str, name: str,
                item: dict) -> Tuple[np.ndarray, np.ndarray]:
    """The classes and maps of image ``name`` in ``map_dir``, which must
    have the size of the dataset item's image."""
    path = map_path(map_dir, name)
    classes, maps = load_maps(path)
    height, width = item['inputs'].shape[-2:]
    if maps.shape[1:] != (height, width):
        raise InputError(f'map size {maps.shape[1:]} of {path} != image '
                         f'size {(height, width)}')
    return classes, maps


class RandomWalkMaps(MapFunction):
    """The refined maps of one dataset item by
    :func:`~mmadv.pseudo_labels.random_walk.affinity_refine_maps`.

    Args:
        model (nn.Module): trained ``AffinityNet``, eval mode, on its device.
        map_dir (str): the maps to refine (the image's classes and maps).
        bg_alpha, beta, logt, stride: see :func:`affinity_refine_maps`.
    """

    def __init__(self, model: nn.Module, map_dir: str, bg_alpha: float,
                 beta: float, logt: int, stride: int) -> None:
        super().__init__(model)
        self.map_dir = map_dir
        self.bg_alpha = BG_ALPHA.check(bg_alpha, 'bg_alpha')
        self.beta = BETA.check(beta, 'beta')
        self.logt = LOGT.check(logt, 'logt')
        self.stride = stride

    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        classes, maps = _image_maps(self.map_dir, name, item)
        image, _ = preprocess_image(self.model.data_preprocessor, item)
        refined = affinity_refine_maps(
            self.model, image, torch.from_numpy(classes),
            torch.from_numpy(maps), self.bg_alpha, self.beta, self.logt,
            self.stride)
        return classes, refined.cpu().numpy()


class BoundaryWalkMaps(MapFunction):
    """The maps of one dataset item refined by IRN's random walk on its
    class-boundary map: :func:`~mmadv.pseudo_labels.boundary_walk.
    boundary_refine_maps` of the maps and
    :func:`~mmadv.pseudo_labels.boundary_walk.boundary_map`.

    Args:
        model (nn.Module): trained ``IRNet``, eval mode, on its device.
        map_dir (str): the maps to refine (the image's classes and maps).
        radius, beta, logt: see :func:`boundary_refine_maps`.
        stride, flip, pad_size: see :func:`boundary_map`.
    """

    def __init__(self, model: nn.Module, map_dir: str, radius: int,
                 beta: float, logt: int, stride: int, flip: bool,
                 pad_size: int) -> None:
        super().__init__(model)
        self.map_dir = map_dir
        self.radius = RADIUS.check(radius, 'radius')
        self.beta = BETA.check(beta, 'beta')
        self.logt = LOGT.check(logt, 'logt')
        self.stride = stride
        self.flip = flip
        self.pad_size = PAD.check(pad_size, 'pad_size')

    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        classes, maps = _image_maps(self.map_dir, name, item)
        image, _ = preprocess_image(self.model.data_preprocessor, item)
        boundary = boundary_map(self.model, image, self.stride, self.flip,
                                self.pad_size)
        refined = boundary_refine_maps(
            torch.from_numpy(maps).to(boundary.device), boundary,
            self.stride, self.radius, self.beta, self.logt)
        return classes, refined.cpu().numpy()


def image_name(img_path: str) -> str:
    """The file stem, the key of an image's map file."""
    return osp.splitext(osp.basename(img_path))[0]


def build_map_dataset(cfg: Config,
                      split: str,
                      pipeline: Sequence[dict] = MAP_PIPELINE) -> BaseDataset:
    """The training dataset of ``cfg`` on ``split``, without augmentation.

    ``cfg.train_dataloader.dataset`` (inside any dataset wrappers) with
    ``ann_file='ImageSets/Segmentation/<split>.txt'`` and ``pipeline``, by
    default ``LoadImageFromFile, PackWeakSegInputs``: original images and
    the labels of the dataset's label source; no masks are read.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = copy.deepcopy(
        innermost_dataset(cfg.train_dataloader.dataset))
    dataset_cfg.update(
        ann_file=split_file(split),
        pipeline=list(pipeline))
    return DATASETS.build(dataset_cfg)


def map_folder_meta(dataset: BaseDataset, split: str, config: Optional[str],
                    checkpoint: str, **settings) -> dict:
    """The ``meta.json`` of a map folder: which images (``split``,
    ``ann_file``, ``num_images``), the data set's ``classes`` and
    ``palette`` (its ``metainfo``; given in ``settings``, they win), which
    model (``config``, ``checkpoint``;
    absolute paths, ``config`` None for a config not from a file; and
    ``checkpoint_sha256``, the checkpoint's content) and the ``settings``
    that made the maps."""
    labels = dict(classes=list(dataset.metainfo['classes']),
                  palette=[list(c) for c in dataset.metainfo['palette']])
    return dict(
        split=split,
        ann_file=osp.abspath(dataset.ann_file),
        num_images=len(dataset),
        config=osp.abspath(config) if config else None,
        **weights_record(checkpoint),
        **dict(labels, **settings))


def weights_record(checkpoint: str) -> dict:
    """The entries of a map folder's ``meta.json`` that name the model's
    weights: the absolute ``checkpoint`` and its ``checkpoint_sha256``."""
    return dict(checkpoint=osp.abspath(checkpoint),
                checkpoint_sha256=file_sha256(checkpoint))


def prepare_map_folder(out_dir: str, meta: dict) -> None:
    """Create ``out_dir`` and write its ``meta.json`` (rank 0), then wait
    for every rank. A folder already holding maps made with other settings
    is refused on every rank, so a resumed run never mixes two models or
    two sets of scales, and so is one with maps but no ``meta.json``
    (maps of unknown origin); one with a ``meta.json`` but no maps yet
    takes the new settings. The temporary files of a killed run are
    deleted."""
    os.makedirs(out_dir, exist_ok=True)
    has_maps = bool(glob.glob(osp.join(out_dir, '*.npz')))
    if has_maps and not osp.isfile(osp.join(out_dir, META_FILE)):
        raise InputError(f'{out_dir} holds map files but no {META_FILE}: '
                         'maps of unknown origin; choose another --out-dir '
                         'or empty it')
    if has_maps:
        old = read_meta(out_dir)
        if 'classes' in meta and 'classes' not in old:
            # made before the classes were recorded: VOC's
            classes, palette = folder_classes(old)
            old.update(classes=list(classes), palette=palette)
        changed = changes(old, meta)
        if changed:
            raise InputError(
                f'{out_dir} holds maps made with other settings or inputs '
                f'({", ".join(changed)}): choose another --out-dir or '
                'empty it')
    elif get_dist_info()[0] == 0:
        write_meta(out_dir, **meta)
    if get_dist_info()[0] == 0:  # before any rank writes again
        num_temp = remove_temp_files(out_dir, '.npz')
        if num_temp:
            print_log(f'removed {num_temp} temporary files of an earlier '
                      f'run from {out_dir}', logger='current')
    barrier()


class _MapItems:
    """The job of a map worker: ``(name, (classes, maps))`` of the
    dataset's image at an index; without ``compute_maps`` ``(name,
    item)``, the packed item. An error reading the image is an
    :class:`InputError` naming it."""

    def __init__(self, dataset: BaseDataset,
                 compute_maps: Optional[MapFunction]) -> None:
        self.dataset = dataset
        self.compute_maps = compute_maps

    def __call__(self, index: int) -> tuple:
        info = self.dataset.get_data_info(index)
        name = image_name(info['img_path'])
        try:
            item = self.dataset.pipeline(info)
        except Exception as e:  # any decoding error: one line
            raise InputError(
                f'cannot read image {info["img_path"]}: {one_line(e)}') from e
        if self.compute_maps is None:
            return name, item
        return name, self.compute_maps(item, name)


@contextlib.contextmanager
def _torch_threads(num: int) -> Iterator[None]:
    saved = torch.get_num_threads()
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def infer_map_folder(compute_maps: MapFunction,
                     dataset: BaseDataset,
                     out_dir: str,
                     num_workers: int = 0,
                     progress: Optional[bool] = None) -> Dict[str, int]:
    """Write the maps of this rank's images of ``dataset``.

    mmengine's ``DefaultSampler`` (no shuffle, no round-up) gives rank ``r``
    of ``W`` the images ``r, r + W, r + 2W, ...`` (one process: all); an
    image whose ``<name>.npz`` exists is skipped (resume); the others go
    to ``num_workers`` forked processes
    (:func:`~mmadv.utils.worker_pool.imap_unordered`, in completion
    order), and every file is written atomically by this process (an
    interrupted run leaves no partial file). A worker that dies (a
    segfault, an abort, the out-of-memory killer) ends the run with an
    :class:`InputError` naming its image; the other workers are killed
    and the files written are kept.

    On a GPU the workers read the images and this process computes the
    maps. On the CPU the workers compute them too (the work is many small
    operations, which one process with several threads does not spread
    over the cores); there every image is computed with one torch thread,
    also without workers, so that the maps do not depend on
    ``num_workers``.

    Args:
        compute_maps (MapFunction): the maps of a dataset item, e.g.
            :class:`MultiScaleMaps` or :class:`RandomWalkMaps`.
        dataset (BaseDataset): the images, see :func:`build_map_dataset`.
        out_dir (str): the map folder.
        num_workers (int): Worker processes. Default: 0 (this one).
        progress (bool, optional): show a progress bar with ETA; default:
            on rank 0 only.

    Returns:
        dict: ``total`` (images of this rank), ``skipped`` (already
        there) and ``written``.
    """
    rank, world_size = get_dist_info()
    indices = list(DefaultSampler(dataset, shuffle=False, seed=0,
                                  round_up=False))
    names = {i: image_name(dataset.get_data_info(i)['img_path'])
             for i in indices}
    todo = [i for i in indices if not osp.isfile(map_path(out_dir, names[i]))]
    stats = dict(total=len(indices), skipped=len(indices) - len(todo),
                 written=0)
    prefix = f'[rank {rank}/{world_size}] ' if world_size > 1 else ''
    print_log(f'{prefix}{stats["total"]} images, {stats["skipped"]} already '
              f'in {out_dir} (skipped), {len(todo)} to infer',
              logger='current')
    show = rank == 0 if progress is None else progress
    on_cpu = compute_maps.device.type == 'cpu'
    in_workers = on_cpu and num_workers > 0  # fork: the model is shared
    doing = 'computing the maps of' if in_workers else 'reading image'
    results = imap_unordered(
        _MapItems(dataset, compute_maps if in_workers else None), todo,
        num_workers, lambda index: f'{doing} {names[index]}',
        'the maps written so far are kept: run again to resume')
    threads = _torch_threads(1) if on_cpu else contextlib.nullcontext()
    try:
        with threads, contextlib.closing(results), \
                progress_bar(len(todo) if show else 0) as bar:
            for name, result in results:
                if not in_workers:
                    result = compute_maps(result, name)
                save_maps(map_path(out_dir, name), *result)
                stats['written'] += 1
                bar.update()
    except KeyboardInterrupt:
        print_log(f'{prefix}interrupted after {stats["written"]} map files; '
                  'run again to resume', logger='current')
        raise
    print_log(f'{prefix}wrote {stats["written"]} map files to {out_dir}',
              logger='current')
    barrier()  # the folder is complete when any rank returns
    return stats
