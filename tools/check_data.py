"""Check every file a config's data sets read, before training on them
(:func:`mmadv.apis.check_data`).

Usage::

    python tools/check_data.py configs/adv_erase_r38_voc.py \\
        [--cfg-options train_dataloader.dataset.data_root=...] \\
        [--loaders train_dataloader] [--workers 8]

Each bad file is one line: an image missing, empty, truncated or not
decodable; an annotation that does not parse, names an unknown class or
no class; a mask that is not single-channel or holds values that are no
class (pseudo-labels and affinity labels included, through the
segmentation and AffinityNet configs). Exit status 1 when any is bad.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import InputError, MissingInputError, check_data
from mmadv.apis.data_check import summary
from mmadv.datasets.layout import LOADERS
from mmadv.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check the images, annotations and masks of a config')
    parser.add_argument('config', help='a training config')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='config overrides, key=value')
    parser.add_argument(
        '--loaders', nargs='+', default=list(LOADERS), choices=LOADERS,
        help='the dataloaders to check (default: all)')
    parser.add_argument(
        '--workers', type=int, default=8, help='threads reading the files')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def run(args) -> dict:
    if not osp.isfile(args.config):
        raise MissingInputError(f'config {args.config} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    report = check_data(cfg, args.loaders, args.workers)
    for line in report['bad']:
        print(line)
    problem = summary(report)
    if problem:
        raise InputError(problem)
    print(f'{args.config}: every file is good (' + ', '.join(
        f'{key} {v["images"]} images'
        for key, v in report['loaders'].items()) + ')')
    return report


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run_tool(lambda: run(args), 'check_data', args.debug)


if __name__ == '__main__':
    main()
