"""Multi-scale + flip attention-map inference (stage 2 of the pipeline).

The trained localizer's class activation maps of every image of a split,
fused over scales and horizontal flips as PSA does (Ahn and Kwak, CVPR
2018, https://arxiv.org/abs/1803.10464, ``infer_cls.py`` of
jiwoon-ahn/psa), written in the format of :mod:`.map_io`.
``tools/infer_cam.py`` wires the command line to these functions.
"""
import copy
import os
import os.path as osp
import sys
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

from .map_io import META_FILE, map_path, read_meta, save_maps, write_meta

DEFAULT_SCALES = (0.5, 1.0, 1.5, 2.0)
MAP_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs')]

Localizer = Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]


@torch.no_grad()
def multi_scale_maps(localizer: Localizer,
                     image: torch.Tensor,
                     classes: torch.Tensor,
                     scales: Sequence[float] = DEFAULT_SCALES,
                     flip: bool = True,
                     eps: float = 1e-5) -> torch.Tensor:
    """Attention maps of the labelled classes, fused over scales and flips.

    Follows PSA's ``infer_cls.py``: for every scale ``s`` the image is
    resized bilinearly (align_corners=False) to ``(round(H s), round(W s))``
    and, with ``flip``, batched with its horizontal flip ``T`` (one forward
    per scale); then::

        S = sum_{s, t} T_t^{-1}(up_{H, W}(ReLU(cams_{s, t}[classes])))
        A = S / (max_{x, y} S + eps)        (per class map)

    The normalisation comes after the sum (PSA), not per scale; a class
    whose maps are all zero stays zero.

    Args:
        localizer (callable): ``(N, 3, h, w) -> (logits (N, C),
            cams (N, C, h', w'))``, the raw class activation maps, e.g.
            ``model.localizer``.
        image (Tensor): (3, H, W) normalised image.
        classes (Tensor): (K,) long indices of the image's labelled
            foreground classes (0-based).
        scales (Sequence[float]): resize factors. Default: PSA's
            (0.5, 1.0, 1.5, 2.0).
        flip (bool): add the horizontal flip of every scale.
            Default: True.
        eps (float): normalisation epsilon. Default: 1e-5 (PSA).

    Returns:
        Tensor: (K, H, W) float maps in [0, 1), ``A[k]`` of ``classes[k]``.
    """
    if image.dim() != 3:
        raise ValueError(f'image must be (3, H, W), got {tuple(image.shape)}')
    if not scales or min(scales) <= 0:
        raise ValueError(f'scales must be positive factors, got {scales}')
    height, width = image.shape[-2:]
    classes = torch.as_tensor(classes, dtype=torch.long,
                              device=image.device).reshape(-1)
    total = image.new_zeros((classes.numel(), height, width))
    if not classes.numel():
        return total
    for scale in scales:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        inputs = image[None]
        if size != (height, width):
            inputs = F.interpolate(
                inputs, size=size, mode='bilinear', align_corners=False)
        if flip:
            inputs = torch.cat([inputs, inputs.flip(-1)])
        _, cams = localizer(inputs)
        cams = F.interpolate(
            F.relu(cams[:, classes]).float(),
            size=(height, width),
            mode='bilinear',
            align_corners=False)
        total += cams[0]
        if flip:
            total += cams[1].flip(-1)
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
        data_preprocessor (nn.Module): the model's preprocessor (mean, std
            and ``bgr_to_rgb`` from the config), run with
            ``training=False``; test-time padding, if configured, is cropped
            away.
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
    dataset_cfg = cfg.train_dataloader.dataset
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg.dataset
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg.update(
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        pipeline=list(pipeline))
    return DATASETS.build(dataset_cfg)


def _first_keys(keys, limit: int = 3) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def load_checkpoint_strict(model: nn.Module, checkpoint: str,
                           config: str = 'the config') -> None:
    """Load ``checkpoint`` into ``model``, every key and shape matching.

    Raises:
        ValueError: one line naming ``checkpoint`` and ``config``, with a
            few missing, unexpected and mismatched keys, or why the file
            cannot be read.
    """
    try:
        loaded = CheckpointLoader.load_checkpoint(
            checkpoint, map_location='cpu', logger='silent')
    except Exception as e:  # any reader error becomes one line
        reason = (str(e).splitlines() or [type(e).__name__])[0]
        raise ValueError(f'cannot read checkpoint {checkpoint}: {reason}') \
            from None
    state = loaded.get('state_dict', loaded) if isinstance(loaded,
                                                           dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state dict')
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
    if missing or unexpected or mismatched:
        parts = [(name, _first_keys(keys)) for name, keys in (
            ('missing keys', missing), ('unexpected keys', unexpected),
            ('shape mismatches (checkpoint vs model)', mismatched)) if keys]
        raise ValueError(f'checkpoint {checkpoint} does not match the model '
                         f'of {config}: ' +
                         '; '.join(f'{n}: {k}' for n, k in parts))
    model.load_state_dict(state, strict=True)


def _drop_pretrained(backbone: dict) -> None:
    """Drop the ImageNet weights a backbone config names: the checkpoint
    provides every weight."""
    init_cfg = backbone.get('init_cfg')
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    if any(c and c.get('type') == 'Pretrained' for c in cfgs):
        backbone.init_cfg = None
    if backbone.get('checkpoint') is not None:  # TimmFeatureBackbone
        backbone.checkpoint = None


def build_trained_model(cfg: Config,
                        checkpoint: str,
                        device: torch.device = torch.device('cpu'),
                        config: str = 'the config') -> nn.Module:
    """``cfg.model`` with the weights of ``checkpoint`` (strict), in eval
    mode on ``device``; see :func:`load_checkpoint_strict` for errors."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    for part in ('localizer', 'adversary'):
        if model_cfg.get(part) and model_cfg[part].get('backbone'):
            _drop_pretrained(model_cfg[part].backbone)
    if model_cfg.get('backbone'):  # e.g. AffinityNet
        _drop_pretrained(model_cfg.backbone)
    model = MODELS.build(model_cfg)
    load_checkpoint_strict(model, checkpoint, config)
    return model.to(device).eval()


def shard_from_env() -> Tuple[int, int, int]:
    """``(RANK, WORLD_SIZE, LOCAL_RANK)`` as torchrun sets them; defaults
    0, 1, 0. No process group is needed: ranks share nothing but the
    output folder."""
    try:
        rank, world_size, local_rank = (int(os.environ.get(k, d)) for k, d in
                                        (('RANK', 0), ('WORLD_SIZE', 1),
                                         ('LOCAL_RANK', 0)))
    except ValueError as e:
        raise ValueError(f'RANK, WORLD_SIZE, LOCAL_RANK must be integers '
                         f'({e})') from None
    if world_size < 1 or not 0 <= rank < world_size or local_rank < 0:
        raise ValueError(f'bad shard: RANK={rank}, WORLD_SIZE={world_size}, '
                         f'LOCAL_RANK={local_rank}')
    return rank, world_size, local_rank


def select_device(name: Optional[str],
                  local_rank: int = 0) -> torch.device:
    """``'cpu'``, ``'cuda'`` (``cuda:<local_rank>``) or None (CUDA when
    available); an error for ``'cuda'`` without CUDA."""
    if name == 'cpu' or (name is None and not torch.cuda.is_available()):
        return torch.device('cpu')
    if not torch.cuda.is_available():
        raise ValueError('--device cuda: CUDA is not available')
    return torch.device('cuda', local_rank)


def map_folder_meta(dataset: BaseDataset, split: str, config: str,
                    checkpoint: str, **settings) -> dict:
    """The ``meta.json`` of a map folder: which images (``split``,
    ``ann_file``, ``num_images``), which model (absolute ``config`` and
    ``checkpoint`` paths) and the tool's ``settings``."""
    return dict(
        split=split,
        ann_file=dataset.ann_file,
        num_images=len(dataset),
        config=osp.abspath(config),
        checkpoint=osp.abspath(checkpoint),
        **settings)


def prepare_map_folder(out_dir: str, meta: dict, rank: int = 0) -> None:
    """Create ``out_dir``; rank 0 writes ``meta.json``. A folder already
    holding maps made with other settings is refused, so a resumed run
    never mixes two models or two sets of scales."""
    os.makedirs(out_dir, exist_ok=True)
    if osp.isfile(osp.join(out_dir, META_FILE)):
        old = read_meta(out_dir)
        changed = sorted(k for k in meta if old.get(k) != meta[k])
        if changed:
            raise ValueError(
                f'{out_dir} holds maps made with other settings ('
                + ', '.join(f'{k}: {old.get(k)!r} now {meta[k]!r}'
                            for k in changed)
                + '): choose another --out-dir or empty it')
    elif rank == 0:
        write_meta(out_dir, **meta)


def _load_item(dataset: BaseDataset, index: int) -> dict:
    info = dataset.get_data_info(index)
    try:
        return dataset.pipeline(info)
    except Exception as e:  # a decoding error names the image, one line
        reason = (str(e).splitlines() or [type(e).__name__])[0]
        raise ValueError(f'cannot read image {info["img_path"]}: '
                         f'{reason}') from None


class MultiScaleMaps:
    """The maps of one dataset item by :func:`multi_scale_maps`: a
    ``compute_maps`` of :func:`infer_map_folder`.

    Args:
        model (nn.Module): with ``localizer`` and ``data_preprocessor``
            (e.g. ``AdversarialErasingClassifier``), on its device, in
            eval mode.
        scales, flip: see :func:`multi_scale_maps`.
    """

    def __init__(self,
                 model: nn.Module,
                 scales: Sequence[float] = DEFAULT_SCALES,
                 flip: bool = True) -> None:
        self.model = model
        self.scales = scales
        self.flip = flip

    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(classes (K,), maps (K, H, W))`` of an item of
        ``PackWeakSegInputs`` (``name`` is not needed)."""
        image, classes = preprocess_item(self.model.data_preprocessor, item)
        maps = multi_scale_maps(self.model.localizer, image, classes,
                                self.scales, self.flip)
        return classes.cpu().numpy(), maps.cpu().numpy()


def infer_map_folder(compute_maps: Callable[[dict, str],
                                            Tuple[np.ndarray, np.ndarray]],
                     dataset: BaseDataset,
                     out_dir: str,
                     rank: int = 0,
                     world_size: int = 1,
                     progress: Optional[bool] = None) -> Dict[str, int]:
    """Write the maps of this rank's images of ``dataset``.

    Rank ``r`` of ``W`` takes images ``r, r + W, r + 2W, ...``; an image
    whose ``<name>.npz`` exists is skipped (resume), every file is written
    atomically (an interrupted run leaves no partial file).

    Args:
        compute_maps (callable): ``(item, name) -> (classes (K,), maps
            (K, H, W))`` of a dataset item and its image name, e.g.
            :class:`MultiScaleMaps`.
        dataset (BaseDataset): the images, see :func:`build_map_dataset`.
        out_dir (str): the map folder.
        rank (int): this shard. Default: 0.
        world_size (int): number of shards. Default: 1.
        progress (bool, optional): show a progress bar with ETA; default:
            on rank 0 only.

    Returns:
        dict: ``total`` (images of this rank), ``skipped`` (already
        there) and ``written``.
    """
    indices = range(rank, len(dataset), world_size)
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
    bar = ProgressBar(len(todo), file=sys.stdout) if show and todo else None
    try:
        try:
            for index in todo:
                item = _load_item(dataset, index)
                save_maps(map_path(out_dir, names[index]),
                          *compute_maps(item, names[index]))
                stats['written'] += 1
                if bar is not None:
                    bar.update()
        finally:
            if bar is not None:
                sys.stdout.write('\n')
    except KeyboardInterrupt:
        print_log(f'{prefix}interrupted after {stats["written"]} map files; '
                  'run again to resume', logger='current')
        raise
    print_log(f'{prefix}wrote {stats["written"]} map files to {out_dir}',
              logger='current')
    return stats
