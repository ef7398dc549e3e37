"""Score a folder of attention maps against ground-truth masks over a sweep
of background thresholds.

Usage::

    python tools/eval_cam.py work_dirs/maps_val \\
        --gt-dir data/VOCdevkit/VOC2012/SegmentationClass \\
        [--split val] [--thresholds 0.1 0.2 0.3] [--json scores.json]

The maps are those of ``tools/infer_cam.py`` (see
:mod:`mmadv.pseudo_labels.map_io`); the folder must have been made for
``--split``. The images are those of the image list recorded in the
folder's ``meta.json`` when that file exists (every one must have maps),
else every ``.npz`` of the folder. The mask of image ``<name>`` is
``<gt-dir>/<name>.png``, read as class indices (VOC's palette PNGs give
their palette indices), 255 ignored.

Logged: the mIoU of every threshold, then the per-class IoU, precision
and recall of the best threshold (tables in percent, as mmseg's
``IoUMetric``). ``--json`` writes every number, as fractions, the best
threshold's under ``best`` (``best.threshold``, ``best.mIoU``, ...).
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional, Sequence

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.evaluation.map_metrics import ThresholdSweep
from mmadv.pseudo_labels.map_io import load_maps, map_path, read_meta
from mmadv.pseudo_labels.pseudo_labels import list_map_names, read_label_png
from mmadv.utils.atomic import atomic_path
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmseg.datasets import PascalVOCDataset
from prettytable import PrettyTable

DEFAULT_THRESHOLDS = np.round(np.arange(0.05, 0.601, 0.05), 2).tolist()


def read_gt(gt_dir: str, name: str, map_file: str,
            map_size: tuple) -> np.ndarray:
    """The ``(H, W)`` class indices of ``<gt_dir>/<name>.png``, checked
    against the size of the maps."""
    path = osp.join(gt_dir, f'{name}.png')
    if not osp.isfile(path):
        raise FileNotFoundError(f'ground truth {path} not found')
    gt = read_label_png(path)
    if gt.shape != tuple(map_size):
        raise ValueError(f'map size {tuple(map_size)} of {map_file} != '
                         f'ground truth size {gt.shape} of {path}')
    return gt


def _nan_to_none(values) -> list:
    return [None if np.isnan(v) else float(v) for v in values]


def to_json(results: dict, classes: Sequence[str], **info) -> dict:
    """The sweep's results with plain types, NaN as ``null``: ``info``,
    ``classes``, ``thresholds``, ``mIoU`` (one per threshold), ``best``
    (the best threshold's entry) and ``per_threshold`` (one entry per
    threshold: ``threshold``, ``mIoU``, ``mPrecision``, ``mRecall``,
    ``aAcc`` and the per-class ``IoU``, ``Precision``, ``Recall``)."""
    per_threshold = []
    for i, threshold in enumerate(results['thresholds']):
        entry = dict(threshold=float(threshold))
        for key in ('mIoU', 'mPrecision', 'mRecall', 'aAcc'):
            entry[key] = _nan_to_none([results[key][i]])[0]
        for key in ('IoU', 'Precision', 'Recall'):
            entry[key] = dict(zip(classes, _nan_to_none(results[key][i])))
        per_threshold.append(entry)
    return dict(
        **info,
        classes=list(classes),
        thresholds=[float(t) for t in results['thresholds']],
        mIoU=_nan_to_none(results['mIoU']),
        best=per_threshold[results['best_index']],
        per_threshold=per_threshold)


def log_results(results: dict, classes: Sequence[str]) -> None:
    """The mIoU per threshold and the best threshold's class table."""
    table = PrettyTable()
    table.add_column('Threshold', [f'{t:.3f}' for t in results['thresholds']])
    for key in ('mIoU', 'mPrecision', 'mRecall'):
        table.add_column(key, np.round(results[key] * 100, 2).tolist())
    print_log(
        'mIoU per background threshold:\n' + table.get_string(),
        logger='current')
    best = results['best_index']
    table = PrettyTable()
    table.add_column('Class', list(classes))
    for key in ('IoU', 'Precision', 'Recall'):
        table.add_column(key, np.round(results[key][best] * 100, 2).tolist())
    print_log(
        f'per class results at threshold {results["best_threshold"]:.3f}:'
        '\n' + table.get_string(),
        logger='current')
    print_log(
        f'best background threshold {results["best_threshold"]:.3f}: '
        f'mIoU {results["best_mIoU"] * 100:.2f}',
        logger='current')


def evaluate(map_dir: str,
             gt_dir: str,
             split: str = 'val',
             thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             json_path: Optional[str] = None) -> dict:
    """Score the maps of ``map_dir`` (see the module docstring).

    Args:
        map_dir (str): Map folder of ``tools/infer_cam.py``.
        gt_dir (str): Folder of the ``<name>.png`` ground-truth masks.
        split (str): The split the maps must be of. Defaults to ``'val'``.
        thresholds (Sequence[float]): Background thresholds.
            Defaults to 0.05, 0.10, ..., 0.60.
        json_path (str, optional): Write every number to this file.
            Defaults to None.

    Returns:
        dict: :meth:`ThresholdSweep.results` plus ``classes``,
        ``num_images`` and ``image_list``.
    """
    if not osp.isdir(map_dir):
        raise FileNotFoundError(f'map folder {map_dir} not found')
    meta = read_meta(map_dir, split)
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'ground-truth folder {gt_dir} not found')
    names, source = list_map_names(map_dir, meta)
    if not names:
        raise FileNotFoundError(f'no maps (.npz) in {map_dir}')
    print_log(
        f'scoring the maps of {len(names)} images ({source}) '
        f'against {gt_dir}',
        logger='current')
    classes = PascalVOCDataset.METAINFO['classes']
    sweep = ThresholdSweep(thresholds, num_classes=len(classes))
    progress = ProgressBar(len(names))
    for name in names:
        path = map_path(map_dir, name)
        img_classes, maps = load_maps(path)
        gt = read_gt(gt_dir, name, path, maps.shape[1:])
        sweep.update(img_classes, maps, gt)
        progress.update()
    sys.stdout.write('\n')
    results = sweep.results()
    log_results(results, classes)
    info = dict(
        map_dir=map_dir,
        gt_dir=gt_dir,
        split=split,
        image_list=source,
        num_images=len(names))
    if json_path:
        with atomic_path(json_path) as tmp:
            with open(tmp, 'w') as f:
                json.dump(to_json(results, classes, **info), f, indent=2)
        print_log(f'scores written to {json_path}', logger='current')
    return dict(results, classes=classes, **info)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Score attention maps as segmentations over a sweep '
        'of background thresholds')
    parser.add_argument('map_dir', help='map folder of tools/infer_cam.py')
    parser.add_argument(
        '--gt-dir', required=True, help='folder of <name>.png masks')
    parser.add_argument(
        '--split', default='val', help='split the maps must be of')
    parser.add_argument(
        '--thresholds',
        type=float,
        nargs='+',
        default=DEFAULT_THRESHOLDS,
        help='background thresholds (default 0.05, 0.10, ..., 0.60)')
    parser.add_argument('--json', help='write every number to this file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        return evaluate(args.map_dir, args.gt_dir, args.split, args.thresholds,
                        args.json)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
