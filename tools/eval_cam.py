"""Score a folder of attention maps against ground-truth masks over a sweep
of background thresholds (:func:`mmadv.apis.evaluate_maps`).

Usage::

    python tools/eval_cam.py work_dirs/maps_val \\
        --gt-dir data/VOCdevkit/VOC2012/SegmentationClass \\
        [--split val] [--thresholds 0.1 0.2 0.3] [--json scores.json]

Logged: the mIoU of every threshold, then the per-class IoU, precision
and recall of the best threshold (tables in percent, as mmseg's
``IoUMetric``). ``--json`` writes every number, as fractions, the best
threshold's under ``best`` (``best.threshold``, ``best.mIoU``, ...).
"""
import argparse

from mmengine.logging import print_log

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import PipelineSettings, evaluate_maps
from mmadv.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Score attention maps as segmentations over a sweep '
        'of background thresholds')
    parser.add_argument('map_dir', help='map folder of tools/infer_cam.py')
    parser.add_argument(
        '--gt-dir', required=True, help='folder of <name>.png masks')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('eval_split'),
        help='split the maps must be of')
    parser.add_argument(
        '--thresholds',
        type=float,
        nargs='+',
        default=list(PipelineSettings.default('thresholds')),
        help='background thresholds (default %(default)s)')
    parser.add_argument('--json', help='write every number to this file')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def run(args):
    result = evaluate_maps(args.map_dir, args.gt_dir, args.split,
                           args.thresholds)
    result.log()
    if args.json:
        result.dump(args.json)
        print_log(f'scores written to {args.json}', logger='current')
    return result


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'eval_cam', args.debug)


if __name__ == '__main__':
    main()
