"""Refine a folder of attention maps by IRN's random walk on a trained
IRNet's class-boundary maps: :func:`mmadv.apis.boundary_walk_maps`.

Usage::

    python tools/infer_irn.py configs/irn_r50_voc.py \\
        work_dirs/irn_r50_voc/iter_990.pth \\
        work_dirs/adv_erase_r38_voc/maps_train_aug --split train_aug \\
        --out-dir work_dirs/adv_erase_r38_voc/maps_irn_train_aug
    # 4 GPUs: each rank takes every 4th image
    torchrun --nproc_per_node 4 tools/infer_irn.py ...

For each image of ``ImageSets/Segmentation/<split>.txt`` (the images of
the IRNet config's training data root) the maps of MAP_DIR are walked and
written in the same format to ``--out-dir``, divided by their maximum (IRN
thresholds them at 0.25). Resumable, atomic, sharded, as
``tools/infer_cam.py``.
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import (IRNSettings, PipelineSettings, boundary_walk_maps,
                        init_model)
from mmadv.utils import load_runner_config
from mmadv.utils.cli import (add_inference_args, init_distributed_from_env,
                             run_tool)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Refine attention maps by IRN\'s random walk')
    parser.add_argument('config', help='IRNet config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('map_dir', help='maps of tools/infer_cam.py')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('train_split'),
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir', help='refined map folder (default: <map_dir>_irn)')
    for name, kind in (('radius', int), ('beta', float), ('logt', int)):
        parser.add_argument(
            '--' + name,
            type=kind,
            default=IRNSettings.default(name),
            help=f'{IRNSettings.doc(name)} (default %(default)s)')
    parser.add_argument(
        '--no-flip', action='store_true',
        help='the boundary map of the image alone (IRN averages it with '
        'the flipped image\'s)')
    add_inference_args(parser)
    return parser.parse_args(argv)


def run(args):
    init_distributed_from_env()
    args.launcher = 'none'  # ranks share only the folder: no DDP
    model = init_model(load_runner_config(args), args.checkpoint,
                       args.device)
    out_dir = args.out_dir or args.map_dir.rstrip('/') + '_irn'
    return boundary_walk_maps(model, args.map_dir, args.split, out_dir,
                              args.radius, args.beta, args.logt,
                              not args.no_flip, args.workers)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'infer_irn', args.debug)


if __name__ == '__main__':
    main()
