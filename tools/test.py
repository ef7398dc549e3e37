"""Test (and evaluate) a checkpoint, as mmseg's ``tools/test.py`` does; the
checkpoint must fit the config's model, and the metrics also go to
``<work_dir>/test_metrics.json``.

Example::

    python tools/test.py configs/cam_r38_voc.py work_dirs/cam/iter_8000.pth
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import test
from mmadv.utils import add_runner_args, load_runner_config
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='folder to keep the predictions in (mmseg IoUMetric format)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(
        lambda: test(load_runner_config(args), args.checkpoint, args.out),
        'test', args.debug)


if __name__ == '__main__':
    main()
