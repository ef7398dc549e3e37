"""Train a model from a config, as mmseg's ``tools/train.py`` does.

Example::

    python tools/train.py configs/adv_erase_r38_voc.py --amp
    bash tools/dist_train.sh configs/adv_erase_r38_voc.py 8
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import train
from mmadv.utils import add_runner_args, load_runner_config
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: every optimizer wrapper becomes an '
        'AmpOptimWrapper (CUDA only)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run_tool(
        lambda: train(load_runner_config(args), args.resume, args.amp),
        'train', args.debug, rerun='run it again with --resume: it goes on '
        'from the last complete checkpoint')


if __name__ == '__main__':
    main()
