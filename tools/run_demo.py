"""The whole method on built-in data, on a CPU, in minutes.

Usage::

    python tools/run_demo.py [--seed 0] [--work-dir work_dirs/demo]

1. Generates the procedural demo data set (:mod:`mmadv.datasets.
   demo_shapes`, 1,600 training and 200 validation images of 64 x 64, five
   VOC classes) from ``--seed`` into ``<work-dir>/data`` (or
   ``--data-root``), unless it is there already;
2. runs the pipeline (:func:`mmadv.apis.run_pipeline`) on the baseline CAM
   (``configs/demo/cam_demo.py``) and adversarial erasing
   (``configs/demo/adv_erase_demo.py``), with PSA's and IRN's
   refinements of the adversarial erasing maps unless ``--no-random-walk``
   and ``--no-irn``;
3. draws ``<work-dir>/demo_figure.png``.

It ends with the pipeline's table and where the checkpoints,
pseudo-labels, figure and ``metrics.json`` are.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction
from mmengine.logging import print_log

import mmadv  # noqa: F401
from mmadv.apis import run_pipeline
from mmadv.datasets.demo_shapes import NUM_TRAIN, NUM_VAL, generate_demo_voc
from mmadv.utils.cli import add_debug_arg, options_by_prefix, run_tool
from mmadv.utils.config_path import resolve_config
from mmadv.visualization import draw_pipeline_figure

BASELINE = 'configs/demo/cam_demo.py'
METHOD = 'configs/demo/adv_erase_demo.py'


def parse_args(argv=None) -> argparse.Namespace:
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
        '--num-train', type=int, default=NUM_TRAIN, help='training images')
    parser.add_argument(
        '--num-val', type=int, default=NUM_VAL, help='validation images')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='stage-1 config overrides (key=value)')
    parser.add_argument(
        '--model-cfg-options', nargs='+', action=DictAction,
        help='overrides of the other networks\' configs, '
        '<network>.<key>=<value> with <network> seg, random_walk or irn')
    parser.add_argument(
        '--pipeline-options', nargs='+', action=DictAction,
        help='wsss_pipeline overrides, e.g. self_training=1 '
        'seg_protocols="[single-scale,ms-flip]"')
    parser.add_argument(
        '--no-random-walk',
        action='store_true',
        help='skip PSA\'s refinement (AffinityNet\'s random walk)')
    parser.add_argument(
        '--no-irn', action='store_true', help='skip IRN\'s refinement')
    parser.add_argument(
        '--verbose', action='store_true', help='every log line')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def run(args) -> dict:
    data_root = args.data_root or osp.join(args.work_dir, 'data')
    print_log(f'demo data (seed {args.seed}) in {osp.abspath(data_root)}',
              logger='current')
    generate_demo_voc(data_root, seed=args.seed, num_train=args.num_train,
                      num_val=args.num_val)
    rows = run_pipeline(
        [resolve_config(c, 'config') for c in (BASELINE, METHOD)],
        work_dir=args.work_dir,
        data_root=data_root,
        seed=args.seed,
        cfg_options=args.cfg_options,
        model_cfg_options=options_by_prefix(args.model_cfg_options,
                                            '--model-cfg-options'),
        pipeline_options={
            **(args.pipeline_options or {}),
            **{key: None
               for key, skip in (('random_walk', args.no_random_walk),
                                 ('irn', args.no_irn)) if skip}
        },
        verbose=args.verbose)
    figure = draw_pipeline_figure(
        rows, *(osp.splitext(osp.basename(c))[0] for c in (BASELINE, METHOD)),
        osp.join(args.work_dir, 'demo_figure.png'))
    print_log(f'figure: {osp.abspath(figure)}', logger='current')
    return rows


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'run_demo', args.debug)


if __name__ == '__main__':
    main()
