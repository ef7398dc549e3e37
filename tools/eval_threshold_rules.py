"""Compare ways of choosing the background threshold
(:func:`mmadv.apis.compare_threshold_rules`): each rule chooses on the
training maps, and the maps of both splits are scored at its threshold.

Usage::

    python tools/eval_threshold_rules.py \\
        work_dirs/demo/adv_erase_demo/maps_train_aug \\
        work_dirs/demo/adv_erase_demo/maps_val \\
        --train-gt-dir work_dirs/demo/data/SegmentationClass \\
        --eval-gt-dir work_dirs/demo/data/SegmentationClass \\
        [--rules MaskSweepThreshold FixedThreshold:threshold=0.3 \\
                 SubsetSweepThreshold:num_images=20 OtsuThreshold] \\
        [--thresholds 0.1 0.2 0.3] [--json rules.json]

A rule is a registered name with ``:key=value,...`` options. Without
``--train-gt-dir`` only the rules that read no mask can run, and the
training split is not scored.
"""
import argparse
import ast

from mmengine.logging import print_log
from prettytable import PrettyTable

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import PipelineSettings, compare_threshold_rules
from mmadv.utils.atomic import write_json
from mmadv.utils.cli import add_debug_arg, run_tool

DEFAULT_RULES = ('MaskSweepThreshold', 'FixedThreshold',
                 'SubsetSweepThreshold:num_images=20', 'OtsuThreshold')


def rule_config(text: str) -> dict:
    """``'Type:key=value,...'`` as ``dict(type='Type', key=value, ...)``
    (values are Python literals)."""
    name, _, options = text.partition(':')
    cfg = dict(type=name)
    for option in filter(None, options.split(',')):
        key, sep, value = option.partition('=')
        if not sep:
            raise argparse.ArgumentTypeError(
                f'rule option {option!r} of {text!r} is not key=value')
        try:
            cfg[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            cfg[key] = value
    return cfg


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Choose the background threshold by several rules on '
        'the training maps and score the maps at each')
    parser.add_argument('train_maps', help='map folder of the train split')
    parser.add_argument('eval_maps', help='map folder of the eval split')
    parser.add_argument('--train-gt-dir',
                        help='training masks (the rules that read masks '
                        'need it)')
    parser.add_argument('--eval-gt-dir', required=True,
                        help='masks of the eval split')
    parser.add_argument('--rules', nargs='+', type=rule_config,
                        default=[rule_config(r) for r in DEFAULT_RULES],
                        help='rules, Type[:key=value,...] (default: '
                        f'{" ".join(DEFAULT_RULES)})')
    parser.add_argument(
        '--thresholds', type=float, nargs='+',
        default=list(PipelineSettings.default('thresholds')),
        help='the sweep of the sweeping rules (default %(default)s)')
    parser.add_argument('--train-split',
                        default=PipelineSettings.default('train_split'))
    parser.add_argument('--eval-split',
                        default=PipelineSettings.default('eval_split'))
    parser.add_argument('--json', help='write the rows to this file')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def run(args):
    rows = compare_threshold_rules(args.rules, args.train_maps,
                                   args.eval_maps, args.train_gt_dir,
                                   args.eval_gt_dir, args.thresholds,
                                   args.train_split, args.eval_split)
    table = PrettyTable()
    table.field_names = [
        'rule', 'threshold', 'masks read', f'maps mIoU ({args.train_split})',
        f'maps mIoU ({args.eval_split})'
    ]
    for row in rows:
        train = row[f'map_miou_{args.train_split}']
        table.add_row([
            row['rule'], f'{row["threshold"]:.3f}', row['num_masks'],
            '-' if train is None else f'{train * 100:.2f}',
            f'{row[f"map_miou_{args.eval_split}"] * 100:.2f}'
        ])
    print_log('\n' + table.get_string(), logger='current')
    if args.json:
        write_json(args.json, rows)
        print_log(f'rows written to {args.json}', logger='current')
    return rows


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'eval_threshold_rules', args.debug)


if __name__ == '__main__':
    main()
