"""The whole method on built-in data, on a CPU, in minutes.

Usage::

    python tools/run_demo.py [--seed 0] [--work-dir work_dirs/demo]

1. Generates the procedural demo data set (:mod:`mmadv.datasets.
   demo_shapes`, 1,600 training and 200 validation images of 64 x 64, five
   VOC classes) from ``--seed`` into ``<work-dir>/data`` (or
   ``--data-root``), unless it is there already;
2. runs ``tools/run_pipeline.py`` on the baseline CAM
   (``configs/demo/cam_demo.py``) and adversarial erasing
   (``configs/demo/adv_erase_demo.py``): stage 1, maps, map evaluation,
   pseudo-labels, the DeepLabV3+ stage and its test, each skipped when
   done, with ``--seed`` as the training seed; for adversarial erasing
   also PSA's refinement (``configs/demo/affinity_demo.py``: affinity
   labels, AffinityNet, random walk) and the same steps on the refined
   maps, unless ``--no-random-walk``;
3. draws ``<work-dir>/demo_figure.png`` (``tools/demo_figure.py``).

It ends with the pipeline's table (baseline, adversarial erasing and
adversarial erasing + random walk: mIoU of the maps, the pseudo-labels and
the segmentation) and where the checkpoints, pseudo-labels, figure and
``metrics.json`` are.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.logging import print_log

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import demo_figure  # noqa: E402
import run_pipeline  # noqa: E402

from mmadv.datasets.demo_shapes import generate_demo_voc  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE = osp.join(REPO, 'configs', 'demo', 'cam_demo.py')
METHOD = osp.join(REPO, 'configs', 'demo', 'adv_erase_demo.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Baseline CAM vs adversarial erasing on the built-in '
        'demo data, end to end')
    parser.add_argument(
        '--seed', type=int, default=0, help='data and training seed')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--data-root',
        help='demo data folder (default: <work-dir>/data); made when absent')
    parser.add_argument(
        '--num-train', type=int, default=1600, help='training images')
    parser.add_argument(
        '--num-val', type=int, default=200, help='validation images')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='stage-1 config overrides (key=value), for both configs')
    parser.add_argument(
        '--seg-cfg-options',
        nargs='+',
        default=[],
        help='segmentation config overrides (key=value)')
    parser.add_argument(
        '--affinity-cfg-options',
        nargs='+',
        default=[],
        help='AffinityNet config overrides (key=value)')
    parser.add_argument(
        '--no-random-walk',
        action='store_true',
        help='skip the random-walk refinement')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if min(args.num_train, args.num_val) < 1:
        raise SystemExit('error: --num-train and --num-val must be >= 1, '
                         f'got {args.num_train} and {args.num_val}')
    data_root = args.data_root or osp.join(args.work_dir, 'data')
    print_log(
        f'demo data (seed {args.seed}) in {osp.abspath(data_root)}',
        logger='current')
    try:
        generate_demo_voc(
            data_root,
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val)
    except FileExistsError as e:
        raise SystemExit(f'error: {e}')
    results = run_pipeline.main([
        BASELINE, METHOD, '--work-dir', args.work_dir, '--data-root',
        data_root, '--seed',
        str(args.seed), *(['--cfg-options', *args.cfg_options]
                          if args.cfg_options else []),
        *(['--seg-cfg-options', *args.seg_cfg_options]
          if args.seg_cfg_options else []),
        *(['--affinity-cfg-options', *args.affinity_cfg_options]
          if args.affinity_cfg_options else []),
        *(['--pipeline-options', 'random_walk=None']
          if args.no_random_walk else [])
    ])
    try:
        figure = demo_figure.make_figure(
            args.work_dir,
            baseline=osp.splitext(osp.basename(BASELINE))[0],
            method=osp.splitext(osp.basename(METHOD))[0])
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    print_log(f'figure: {osp.abspath(figure)}', logger='current')
    return results


if __name__ == '__main__':
    main()
