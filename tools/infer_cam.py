"""Infer the attention maps of a split (stage 2): multi-scale + flip, PSA's
fusion (:func:`mmadv.apis.infer_maps`).

Writes ``<out_dir>/<name>.npz`` per image and ``meta.json`` (format:
:mod:`mmadv.pseudo_labels.map_io`); default ``out_dir``:
``<work_dir>/maps_<split>``. Resumable: images whose file exists are
skipped; a split with an image above ``--max-pixels`` is refused before
the first. Examples::

    python tools/infer_cam.py configs/adv_erase_r38_voc.py \\
        work_dirs/adv_erase_r38_voc/iter_10000.pth --split train_aug
    # 4 GPUs: each rank takes every 4th image
    torchrun --nproc_per_node 4 tools/infer_cam.py CONFIG CHECKPOINT
"""
import argparse
import os.path as osp

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import PipelineSettings, infer_maps, init_model
from mmadv.utils import load_runner_config
from mmadv.utils.cli import (add_inference_args, init_distributed_from_env,
                             run_tool)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Infer multi-scale + flip attention maps of a split')
    parser.add_argument('config', help='config of the trained model')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('train_split'),
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir', help='map folder (default: <work_dir>/maps_<split>)')
    PipelineSettings.add_arguments(parser, ('scales', 'flip', 'max_pixels'))
    add_inference_args(parser)
    return parser.parse_args(argv)


def run(args):
    init_distributed_from_env()
    args.launcher = 'none'  # ranks share only the folder: no DDP
    cfg = load_runner_config(args)
    out_dir = args.out_dir or osp.join(cfg.work_dir, f'maps_{args.split}')
    model = init_model(cfg, args.checkpoint, args.device)
    return infer_maps(model, args.split, out_dir, args.scales,
                      args.flip, args.workers, args.max_pixels)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'infer_cam', args.debug)


if __name__ == '__main__':
    main()
