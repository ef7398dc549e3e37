"""Test (and evaluate) a checkpoint, as mmseg's ``tools/test.py`` does; the
metrics also go to ``<work_dir>/test_metrics.json``.

Example::

    python tools/test.py configs/cam_r38_voc.py work_dirs/cam/iter_8000.pth
"""
import argparse
import json
import os.path as osp

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.utils import add_runner_args, atomic_path, load_runner_config
from mmengine.dist import is_main_process
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='folder to keep the predictions in (mmseg IoUMetric format)')
    add_runner_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if is_main_process():
        with atomic_path(osp.join(cfg.work_dir, 'test_metrics.json')) as tmp:
            with open(tmp, 'w') as f:
                # numpy scalars (IoUMetric's float32) as Python numbers
                json.dump(metrics, f, indent=2, default=lambda v: v.tolist())


if __name__ == '__main__':
    main()
