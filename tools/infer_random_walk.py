"""Refine a folder of attention maps by AffinityNet's random walk (PSA).

Usage::

    python tools/infer_random_walk.py configs/affinity_r38_voc.py \\
        work_dirs/affinity_r38_voc/iter_10600.pth \\
        work_dirs/adv_erase_r38_voc/maps_train_aug --split train_aug \\
        --out-dir work_dirs/adv_erase_r38_voc/maps_rw_train_aug
    # 4 GPUs (no process group: each rank takes every 4th image)
    torchrun --nproc_per_node 4 tools/infer_random_walk.py ...

For each image of ``ImageSets/Segmentation/<split>.txt`` (the images of
the affinity config's training data root) it reads the image's maps from
MAP_DIR (``tools/infer_cam.py``'s format, made for ``--split``), refines
them with :func:`~mmadv.pseudo_labels.random_walk.refine_maps` and writes
them in the same format to ``--out-dir``: ``A'_k = s*_k / (s*_k + s*_bg)``
of the walked scores, so ``tools/eval_cam.py``, ``tools/
make_pseudo_labels.py`` and ``tools/run_pipeline.py`` read them unchanged
(a background threshold of 0.5 is PSA's argmax). Resumable, atomic, a
progress bar, sharded by torchrun's ``RANK``/``WORLD_SIZE``, as
``tools/infer_cam.py``.
"""
import argparse
import os.path as osp
from argparse import Namespace
from typing import Tuple

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
import numpy as np
import torch
import torch.nn as nn
from mmadv.pseudo_labels.map_inference import (build_map_dataset,
                                               build_trained_model,
                                               infer_map_folder,
                                               map_folder_meta,
                                               prepare_map_folder,
                                               preprocess_image,
                                               select_device,
                                               shard_from_env)
from mmadv.pseudo_labels.map_io import load_maps, map_path, read_meta
from mmadv.pseudo_labels.random_walk import embedding_stride, refine_maps
from mmadv.utils import load_runner_config
from mmengine.config import DictAction
from mmengine.logging import print_log

# original images, no labels: the classes come from the map files
IMAGE_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]


class RandomWalkMaps:
    """The refined maps of one image: a ``compute_maps`` of
    :func:`~mmadv.pseudo_labels.map_inference.infer_map_folder`.

    Args:
        model (nn.Module): trained ``AffinityNet``, eval mode, on its device.
        map_dir (str): the maps to refine.
        bg_alpha, beta, logt, stride: see :func:`refine_maps`.
    """

    def __init__(self, model: nn.Module, map_dir: str, bg_alpha: float,
                 beta: float, logt: int, stride: int) -> None:
        self.model = model
        self.map_dir = map_dir
        self.bg_alpha = bg_alpha
        self.beta = beta
        self.logt = logt
        self.stride = stride

    def __call__(self, item: dict, name: str) -> Tuple[np.ndarray, np.ndarray]:
        path = map_path(self.map_dir, name)
        classes, maps = load_maps(path)
        height, width = item['inputs'].shape[-2:]
        if maps.shape[1:] != (height, width):
            raise ValueError(f'map size {maps.shape[1:]} of {path} != image '
                             f'size {(height, width)}')
        image, _ = preprocess_image(self.model.data_preprocessor, item)
        refined = refine_maps(self.model, image, torch.from_numpy(classes),
                              torch.from_numpy(maps), self.bg_alpha,
                              self.beta, self.logt, self.stride)
        return classes, refined.cpu().numpy()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Refine attention maps by AffinityNet\'s random walk')
    parser.add_argument('config', help='AffinityNet config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('map_dir', help='maps of tools/infer_cam.py')
    parser.add_argument(
        '--split',
        default='train_aug',
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir',
        help='refined map folder (default: <map_dir>_rw)')
    parser.add_argument(
        '--bg-alpha',
        type=float,
        default=16,
        help='background score (1 - max)^ALPHA (PSA: 16)')
    parser.add_argument(
        '--beta', type=float, default=8, help='affinity power (PSA: 8)')
    parser.add_argument(
        '--logt',
        type=int,
        default=8,
        help='2^LOGT random-walk steps (PSA: 8)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='default: cuda:LOCAL_RANK when CUDA is available, else cpu')
    return parser.parse_args(argv)


def run(args):
    rank, world_size, local_rank = shard_from_env()
    for path, what in ((args.config, 'config'), (args.map_dir,
                                                 'map folder')):
        if not osp.exists(path):
            raise FileNotFoundError(f'{what} {path} not found')
    if args.logt < 0:
        raise ValueError(f'--logt must be >= 0, got {args.logt}')
    read_meta(args.map_dir, args.split)  # maps of this split
    cfg = load_runner_config(
        Namespace(
            config=args.config,
            cfg_options=args.cfg_options,
            work_dir=None,
            launcher='none',
            local_rank=local_rank))
    out_dir = args.out_dir or args.map_dir.rstrip('/') + '_rw'
    device = select_device(args.device, local_rank)
    dataset = build_map_dataset(cfg, args.split, IMAGE_PIPELINE)
    model = build_trained_model(cfg, args.checkpoint, device, args.config)
    stride = embedding_stride(model)
    meta = map_folder_meta(
        dataset,
        args.split,
        args.config,
        args.checkpoint,
        maps=osp.abspath(args.map_dir),
        bg_alpha=args.bg_alpha,
        beta=args.beta,
        logt=args.logt,
        stride=stride)
    prepare_map_folder(out_dir, meta, rank)
    print_log(
        f'random walk of {args.map_dir} ({args.split}, {len(dataset)} '
        f'images) -> {out_dir}: bg_alpha {args.bg_alpha}, beta {args.beta}'
        f', 2^{args.logt} steps, embedding stride {stride}, {device}, '
        f'shard {rank} of {world_size}',
        logger='current')
    compute = RandomWalkMaps(model, args.map_dir, args.bg_alpha, args.beta,
                             args.logt, stride)
    return infer_map_folder(compute, dataset, out_dir, rank, world_size)


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'infer_random_walk: error: {e}') from None


if __name__ == '__main__':
    main()
