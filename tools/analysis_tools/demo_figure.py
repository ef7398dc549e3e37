"""A figure of a pipeline run (``tools/run_pipeline.py``,
``tools/run_demo.py``): for a few evaluation images, the image, the
baseline CAM, the adversarial erasing map and its pseudo-label, the same
after each refinement that ran (AffinityNet's random walk, IRN) and the
ground truth
(:func:`mmadv.visualization.draw_pipeline_figure`).

Usage::

    python tools/analysis_tools/demo_figure.py work_dirs/demo [--images 6] \\
        [--out work_dirs/demo/demo_figure.png]
"""
import argparse
import json
import os.path as osp

from mmengine.logging import print_log

import mmadv  # noqa: F401
from mmadv.pipeline import Row
from mmadv.utils.cli import add_debug_arg, run_tool
from mmadv.utils.errors import InputError, MissingInputError
from mmadv.visualization import draw_pipeline_figure


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Figure of a pipeline run: image, baseline map, '
        'adversarial erasing map and pseudo-label, the same after each '
        'refinement that ran (random walk, IRN), ground truth')
    parser.add_argument('work_dir', help='work dir of tools/run_pipeline.py')
    parser.add_argument('--baseline', default='cam_demo',
                        help='config name of the baseline')
    parser.add_argument('--method', default='adv_erase_demo',
                        help='config name of adversarial erasing')
    parser.add_argument('--images', type=int, default=6, help='rows')
    parser.add_argument('--out', help='PNG (default: '
                        '<work_dir>/demo_figure.png)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def run(args) -> str:
    metrics = osp.join(args.work_dir, 'metrics.json')
    if not osp.isfile(metrics):
        raise MissingInputError(f'{metrics} not found: run '
                                'tools/run_pipeline.py first')
    with open(metrics) as f:
        entries = json.load(f)
    try:
        rows = {name: Row.from_dict(row) for name, row in entries.items()}
    except (KeyError, TypeError):
        raise InputError(f'{metrics} is from an older mmadv: run the '
                         'pipeline again') from None
    out = draw_pipeline_figure(
        rows, args.baseline, args.method,
        args.out or osp.join(args.work_dir, 'demo_figure.png'), args.images,
        metrics)
    print_log(f'figure written to {out}', logger='current')
    return out


def main(argv=None) -> str:
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'demo_figure', args.debug)


if __name__ == '__main__':
    main()
