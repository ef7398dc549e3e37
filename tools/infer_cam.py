"""Infer the attention maps of a split (stage 2): multi-scale + flip, PSA's
fusion (:func:`mmadv.pseudo_labels.map_inference.multi_scale_maps`).

Writes ``<out_dir>/<name>.npz`` per image and ``meta.json`` (format:
:mod:`mmadv.pseudo_labels.map_io`); default ``out_dir``:
``<work_dir>/maps_<split>``. Resumable: images whose file exists are
skipped. Examples::

    python tools/infer_cam.py configs/adv_erase_r38_voc.py \\
        work_dirs/adv_erase_r38_voc/iter_10000.pth --split train_aug
    # 4 GPUs (no process group: each rank takes every 4th image)
    torchrun --nproc_per_node 4 tools/infer_cam.py CONFIG CHECKPOINT
"""
import argparse
import os.path as osp
from argparse import Namespace

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.pseudo_labels.map_inference import (DEFAULT_SCALES,
                                               MultiScaleMaps,
                                               build_map_dataset,
                                               select_device,
                                               build_trained_model,
                                               infer_map_folder,
                                               map_folder_meta,
                                               prepare_map_folder,
                                               shard_from_env)
from mmadv.utils import load_runner_config
from mmengine.config import DictAction
from mmengine.logging import print_log


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Infer multi-scale + flip attention maps of a split')
    parser.add_argument('config', help='config of the trained model')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument(
        '--split',
        default='train_aug',
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir', help='map folder (default: <work_dir>/maps_<split>)')
    parser.add_argument(
        '--work-dir',
        help='work dir (default: the config\'s, else '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--scales',
        nargs='+',
        type=float,
        default=list(DEFAULT_SCALES),
        help='resize factors, fused by summation (PSA)')
    parser.add_argument(
        '--no-flip',
        action='store_true',
        help='do not add the horizontal flip of every scale')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs merged into the '
        'config, e.g. train_dataloader.dataset.data_root=data/voc')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='default: cuda:LOCAL_RANK when CUDA is available, else cpu')
    return parser.parse_args(argv)


def run(args):
    rank, world_size, local_rank = shard_from_env()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} not found')
    cfg = load_runner_config(
        Namespace(
            config=args.config,
            cfg_options=args.cfg_options,
            work_dir=args.work_dir,
            launcher='none',
            local_rank=local_rank))
    out_dir = args.out_dir or osp.join(cfg.work_dir, f'maps_{args.split}')
    device = select_device(args.device, local_rank)
    dataset = build_map_dataset(cfg, args.split)
    meta = map_folder_meta(
        dataset,
        args.split,
        args.config,
        args.checkpoint,
        scales=list(args.scales),
        flip=not args.no_flip)
    model = build_trained_model(cfg, args.checkpoint, device, args.config)
    prepare_map_folder(out_dir, meta, rank)
    print_log(
        f'maps of {args.split} ({len(dataset)} images) -> {out_dir}: '
        f'scales {meta["scales"]}, flip {meta["flip"]}, {device}, '
        f'shard {rank} of {world_size}',
        logger='current')
    return infer_map_folder(
        MultiScaleMaps(model, args.scales, meta['flip']), dataset, out_dir,
        rank, world_size)


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'infer_cam: error: {e}') from None


if __name__ == '__main__':
    main()
