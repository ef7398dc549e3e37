"""Train a model from a config, as mmseg's ``tools/train.py`` does.

Example::

    python tools/train.py configs/adv_erase_r38_voc.py --amp
    bash tools/dist_train.sh configs/adv_erase_r38_voc.py 8
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.utils import add_runner_args, enable_amp, load_runner_config
from mmengine.runner import Runner
from mmseg.registry import RUNNERS


def parse_args():
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
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_runner_config(args)
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
