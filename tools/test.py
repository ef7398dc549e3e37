"""Test (and evaluate) a checkpoint, as mmseg's ``tools/test.py`` does; the
checkpoint must fit the config's model, and the metrics also go to
``<work_dir>/test_metrics.json``. A segmentation config is tested
multi-scale with flips (``--tta``, mmseg's), with DeepLab's dense CRF
(``--crf``), or both (:mod:`mmadv.engine.seg_protocols`).

Example::

    python tools/test.py configs/cam_r38_voc.py work_dirs/cam/iter_8000.pth
    python tools/test.py configs/deeplabv3plus_r101-d8_voc12aug-pseudo.py \
        work_dirs/seg/iter_40000.pth --tta --crf --out work_dirs/seg/pred
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import test
from mmadv.engine.seg_protocols import protocol_key
from mmadv.utils import add_runner_args, load_runner_config
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='write the predictions to this folder as label PNGs (mmseg '
        'IoUMetric format, which the VOC test server takes)')
    parser.add_argument(
        '--tta', action='store_true',
        help='multi-scale and flip testing (the config\'s tta_pipeline and '
        'tta_model, as mmseg\'s --tta)')
    parser.add_argument(
        '--crf', action='store_true',
        help='dense CRF post-processing of the probabilities (the config\'s '
        'crf_model; default DeepLab v2\'s VOC values)')
    parser.add_argument(
        '--format-only', action='store_true',
        help='only write the predictions to --out, of images without masks '
        '(e.g. VOC\'s test split): nothing is scored')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(
        lambda: test(load_runner_config(args), args.checkpoint, args.out,
                     protocol=protocol_key(args.tta, args.crf),
                     format_only=args.format_only),
        'test', args.debug)


if __name__ == '__main__':
    main()
