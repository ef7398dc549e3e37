"""Turn a folder of attention maps into VOC-format label PNGs
(:func:`mmadv.apis.write_pseudo_labels`): pseudo-labels by the background
threshold, AffinityNet's training labels with ``--affinity`` or IRN's
relation labels with ``--relation``.

Usage::

    python tools/make_pseudo_labels.py work_dirs/maps_train_aug \\
        --img-dir data/VOCdevkit/VOC2012/JPEGImages \\
        --out-dir data/VOCdevkit/VOC2012/PseudoLabels \\
        [--split train_aug] [--bg-threshold 0.25] [--uncertain 0.2 0.4] \\
        [--crf] [--workers 8] \\
        [--gt-dir data/VOCdevkit/VOC2012/SegmentationClassAug] \\
        [--json summary.json]
    # AffinityNet's training labels instead (PSA: alphas 4 and 32, CRF)
    python tools/make_pseudo_labels.py work_dirs/maps_train_aug \\
        --img-dir data/VOCdevkit/VOC2012/JPEGImages \\
        --out-dir work_dirs/affinity_labels_train_aug --affinity 4 32 --crf
    # IRN's relation labels (IRN: 0.30 and 0.05, its label CRF)
    python tools/make_pseudo_labels.py work_dirs/maps_train_aug \
        --img-dir data/VOCdevkit/VOC2012/JPEGImages \
        --out-dir work_dirs/relation_labels_train_aug --relation 0.30 0.05 \
        --crf

Resumable (PNGs there are kept), atomic, refuses a folder made with other
settings; with ``--gt-dir`` the labels are scored against the masks. With
``--crf`` an image above ``--max-pixels`` is refused before the first.
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import PipelineSettings, write_pseudo_labels
from mmadv.datasets.layout import IMG_SUFFIX
from mmadv.pseudo_labels import DenseCRF
from mmadv.structures import DEFAULT_BG_THRESHOLD
from mmadv.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Make VOC-format pseudo-label PNGs from attention maps')
    parser.add_argument('map_dir', help='map folder of tools/infer_cam.py')
    parser.add_argument('--img-dir', required=True, help='image folder')
    parser.add_argument(
        '--out-dir', required=True, help='folder of the label PNGs')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('train_split'),
        help='split the maps must be of')
    parser.add_argument(
        '--bg-threshold',
        type=float,
        default=DEFAULT_BG_THRESHOLD,
        help='background where the highest map is below it '
        '(default %(default)s)')
    parser.add_argument(
        '--uncertain',
        type=float,
        nargs=2,
        metavar=('LOW', 'HIGH'),
        help='255 (ignore) where the highest map is in [LOW, HIGH); '
        '--bg-threshold labels the other pixels')
    labels = parser.add_mutually_exclusive_group()
    labels.add_argument(
        '--affinity',
        type=float,
        nargs=2,
        metavar=('LOW_ALPHA', 'HIGH_ALPHA'),
        help='write AffinityNet training labels instead: confident '
        'foreground from the background score (1 - max)^LOW_ALPHA, '
        'confident background from (1 - max)^HIGH_ALPHA, 255 between '
        '(PSA: 4 32 --crf)')
    labels.add_argument(
        '--relation',
        type=float,
        nargs=2,
        metavar=('FG', 'BG'),
        help='write IRN relation labels instead: confident foreground '
        'where a map beats the background score FG, confident background '
        'where none beats BG, 255 between (IRN: 0.30 0.05 --crf)')
    parser.add_argument(
        '--crf', action='store_true',
        help='refine with a dense CRF (PSA\'s; with --relation IRN\'s label '
        'CRF)')
    parser.add_argument(
        '--crf-iters', type=int, default=DenseCRF.t,
        help='CRF mean-field steps (default %(default)s)')
    parser.add_argument(
        '--crf-scale',
        type=float,
        default=DenseCRF.scale_factor,
        help='divides the CRF\'s spatial deviations (default %(default)s)')
    parser.add_argument(
        '--workers',
        type=int,
        default=PipelineSettings.default('workers'),
        help='processes (default: the CPUs, at most 8)')
    PipelineSettings.add_arguments(parser, ('max_pixels', ))
    parser.add_argument(
        '--gt-dir', help='score the labels against these <name>.png masks')
    parser.add_argument(
        '--img-suffix', default=IMG_SUFFIX, help='image suffix')
    parser.add_argument(
        '--json', help='write the summary and the settings to this file')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def labeler(args) -> dict:
    """The labeler's config from the arguments."""
    crf = dict(t=args.crf_iters, scale_factor=args.crf_scale) \
        if args.crf else None
    if args.affinity:
        low_alpha, high_alpha = args.affinity
        return dict(type='AffinityLabeler', low_alpha=low_alpha,
                    high_alpha=high_alpha, crf=crf)
    if args.relation:
        conf_fg_thres, conf_bg_thres = args.relation
        return dict(type='RelationLabeler', conf_fg_thres=conf_fg_thres,
                    conf_bg_thres=conf_bg_thres, crf=crf)
    return dict(type='ThresholdLabeler', bg_threshold=args.bg_threshold,
                uncertain=args.uncertain, crf=crf)


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run_tool(
        lambda: write_pseudo_labels(
            args.map_dir, args.img_dir, args.out_dir, args.split,
            labeler(args), args.workers, args.gt_dir, args.img_suffix,
            args.json, args.max_pixels), 'make_pseudo_labels', args.debug)


if __name__ == '__main__':
    main()
