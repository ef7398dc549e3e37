"""Refine a folder of attention maps by AffinityNet's random walk (PSA):
:func:`mmadv.apis.refine_maps`.

Usage::

    python tools/infer_random_walk.py configs/affinity_r38_voc.py \\
        work_dirs/affinity_r38_voc/iter_10600.pth \\
        work_dirs/adv_erase_r38_voc/maps_train_aug --split train_aug \\
        --out-dir work_dirs/adv_erase_r38_voc/maps_rw_train_aug
    # 4 GPUs: each rank takes every 4th image
    torchrun --nproc_per_node 4 tools/infer_random_walk.py ...

For each image of ``ImageSets/Segmentation/<split>.txt`` (the images of
the AffinityNet config's training data root) the maps of MAP_DIR are
refined and written in the same format to ``--out-dir`` (a background
threshold of 0.5 is PSA's argmax). Resumable, atomic, sharded, as
``tools/infer_cam.py``.
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import (PipelineSettings, RandomWalkSettings, init_model,
                        refine_maps)
from mmadv.utils import load_runner_config
from mmadv.utils.cli import (add_inference_args, init_distributed_from_env,
                             run_tool)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Refine attention maps by AffinityNet\'s random walk')
    parser.add_argument('config', help='AffinityNet config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('map_dir', help='maps of tools/infer_cam.py')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('train_split'),
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir', help='refined map folder (default: <map_dir>_rw)')
    for name, kind in (('bg_alpha', float), ('beta', float), ('logt', int)):
        parser.add_argument(
            '--' + name.replace('_', '-'),
            type=kind,
            default=RandomWalkSettings.default(name),
            help=f'{RandomWalkSettings.doc(name)} (default %(default)s)')
    add_inference_args(parser)
    return parser.parse_args(argv)


def run(args):
    init_distributed_from_env()
    args.launcher = 'none'  # ranks share only the folder: no DDP
    model = init_model(load_runner_config(args), args.checkpoint,
                       args.device)
    out_dir = args.out_dir or args.map_dir.rstrip('/') + '_rw'
    return refine_maps(model, args.map_dir, args.split, out_dir,
                       args.bg_alpha, args.beta, args.logt, args.workers)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'infer_random_walk',
                    args.debug)


if __name__ == '__main__':
    main()
