"""Turn a folder of attention maps into VOC-format pseudo-label PNGs.

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

The maps are those of ``tools/infer_cam.py`` (see
:mod:`mmadv.pseudo_labels.map_io`), made for ``--split``; the images are
the folder's recorded image list when that file exists, else its
``.npz`` files. Image ``<name>`` gets ``<out-dir>/<name>.png``, a palette
PNG of labels 0 (background), ``c + 1`` (class ``c``) and 255 (ignore),
made by :func:`~mmadv.pseudo_labels.pseudo_labels.make_pseudo_label`, or
with ``--affinity`` by
:func:`~mmadv.pseudo_labels.affinity_labels.affinity_labels` (confident
foreground and background, 255 between); point an mmseg dataset's
``seg_map_path`` at ``--out-dir`` to train on them.

The run is resumable: PNGs already in ``--out-dir`` are kept (each PNG is
written to a temporary file and renamed, so an interrupted run leaves no
partial one; Ctrl-C stops the workers and deletes their temporary
files), and ``<out-dir>/meta.json`` records the settings, so that a rerun
with other settings is refused instead of mixing labels. With
``--gt-dir`` the labels (new and kept) are scored against the
ground-truth masks that exist, over the pixels they label (see
:func:`~mmadv.evaluation.map_metrics.confusion_matrix`).
"""
import argparse
import functools
import json
import multiprocessing
import os
import os.path as osp
import re
import signal
import sys
import time
from typing import Iterator, List, Optional, Sequence

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.evaluation.map_metrics import iou_summary
from mmadv.pseudo_labels.map_io import META_FILE, read_meta, write_meta
from mmadv.pseudo_labels.affinity_labels import affinity_labels
from mmadv.pseudo_labels.pseudo_labels import (PseudoLabelJob,
                                               check_uncertain,
                                               list_map_names,
                                               make_pseudo_label)
from mmadv.utils.atomic import atomic_path
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmseg.datasets import PascalVOCDataset
from prettytable import PrettyTable

# the settings a resumed run must share with the PNGs already written
SETTINGS = ('map_dir', 'split', 'bg_threshold', 'uncertain', 'crf',
            'affinity')
# temporary names of mmadv.utils.atomic_path, left by a killed process
TEMP_PNG = re.compile(r'^\..+\.tmp\d+\.png$')


def check_out_dir(out_dir: str, settings: dict) -> None:
    """Refuse an ``out_dir`` whose ``meta.json`` has other settings."""
    path = osp.join(out_dir, META_FILE)
    if not osp.isfile(path):
        return
    with open(path) as f:
        old = json.load(f)
    new = json.loads(json.dumps(settings))
    diff = [
        f'{key}={old.get(key)!r} (now {new[key]!r})' for key in SETTINGS
        if old.get(key) != new[key]
    ]
    if diff:
        raise ValueError(f'{out_dir} holds pseudo-labels made with '
                         f'{", ".join(diff)} ({path}); choose another '
                         '--out-dir or delete it')


def remove_temp_files(out_dir: str) -> int:
    """Delete the temporary PNGs killed processes left; their number."""
    temps = [f for f in os.listdir(out_dir) if TEMP_PNG.match(f)]
    for name in temps:
        os.remove(osp.join(out_dir, name))
    return len(temps)


def _init_worker() -> None:
    """Leave Ctrl-C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_jobs(job: PseudoLabelJob, names: List[str],
             workers: int) -> Iterator[dict]:
    """``job(name)`` for every name, in this process (``workers <= 1``) or
    a pool, in completion order. Closing the generator early terminates
    the pool's processes and waits for them."""
    if workers <= 1:
        yield from map(job, names)
        return
    chunksize = max(1, min(8, len(names) // (4 * workers)))
    with multiprocessing.Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(job, names, chunksize)


def log_scores(confusion: np.ndarray, num_scored: int, num_images: int,
               num_valid: int, num_labelled: int) -> float:
    """Log the pseudo-labels' scores; their mIoU (a fraction)."""
    classes = PascalVOCDataset.METAINFO['classes']
    scores = iou_summary(confusion)
    table = PrettyTable()
    table.add_column('Class', list(classes))
    for key in ('IoU', 'Precision', 'Recall'):
        table.add_column(key, np.round(scores[key] * 100, 2).tolist())
    print_log('per class results:\n' + table.get_string(), logger='current')
    print_log(
        f'pseudo-label mIoU {scores["mIoU"] * 100:.2f} on the {num_scored} '
        f'of {num_images} images with ground truth, over the labelled '
        'pixels, which are '
        f'{num_labelled / max(num_valid, 1) * 100:.2f}% of the scored ones',
        logger='current')
    return float(scores['mIoU'])


def make_pseudo_labels(map_dir: str,
                       img_dir: str,
                       out_dir: str,
                       split: str = 'train_aug',
                       bg_threshold: float = 0.25,
                       uncertain: Optional[Sequence[float]] = None,
                       crf: Optional[dict] = None,
                       workers: int = 1,
                       gt_dir: Optional[str] = None,
                       img_suffix: str = '.jpg',
                       json_path: Optional[str] = None,
                       affinity: Optional[Sequence[float]] = None) -> dict:
    """Write the pseudo-labels of ``map_dir`` (see the module docstring).

    Args:
        map_dir (str): Map folder of ``tools/infer_cam.py``.
        img_dir (str): Image folder (``<name><img_suffix>``).
        out_dir (str): Folder of the label PNGs and their ``meta.json``.
        split (str): The split the maps must be of.
            Defaults to ``'train_aug'``.
        bg_threshold (float): Background score. Defaults to 0.25.
        uncertain (Sequence[float], optional): ``(low, high)`` band of
            ignored pixels. Defaults to None.
        crf (dict, optional): ``crf_refine`` arguments (``t``,
            ``scale_factor``), or None for no CRF. Defaults to None.
        workers (int): Processes; 1 works in this process.
            Defaults to 1.
        gt_dir (str, optional): Ground-truth masks to score against.
            Defaults to None.
        img_suffix (str): Image suffix. Defaults to ``'.jpg'``.
        json_path (str, optional): Also write the summary, with the
            settings, to this file. Defaults to None.
        affinity (Sequence[float], optional): ``(low_alpha,
            high_alpha)``: write AffinityNet labels with these background
            exponents (and ``crf``) instead of pseudo-labels
            (``bg_threshold`` and ``uncertain`` unused). Defaults to None.

    Returns:
        dict: ``written`` and ``skipped`` (PNGs kept) counts, ``scored``
        (images with a ground truth), ``mIoU`` (a fraction, or None
        without ground truth) and ``seconds``.
    """
    for folder, what in ((map_dir, 'map'), (img_dir, 'image'),
                         (gt_dir, 'ground-truth')):
        if folder is not None and not osp.isdir(folder):
            raise FileNotFoundError(f'{what} folder {folder} not found')
    map_meta = read_meta(map_dir, split)
    names, source = list_map_names(map_dir, map_meta)
    if not names:
        raise FileNotFoundError(f'no maps (.npz) in {map_dir}')
    settings = dict(
        map_dir=osp.abspath(map_dir),
        split=split,
        bg_threshold=bg_threshold,
        uncertain=None if uncertain is None else list(uncertain),
        crf=crf,
        affinity=None if affinity is None else list(affinity))
    if affinity is not None:
        low_alpha, high_alpha = affinity
        labeler = functools.partial(
            affinity_labels,
            low_alpha=low_alpha,
            high_alpha=high_alpha,
            crf=crf)
    else:
        if uncertain is not None:
            uncertain = check_uncertain(uncertain)
        labeler = functools.partial(
            make_pseudo_label,
            bg_threshold=bg_threshold,
            uncertain=uncertain,
            crf=crf)
    job = PseudoLabelJob(map_dir, img_dir, out_dir, labeler, img_suffix,
                         gt_dir, len(PascalVOCDataset.METAINFO['classes']))
    os.makedirs(out_dir, exist_ok=True)
    check_out_dir(out_dir, settings)
    num_temp = remove_temp_files(out_dir)
    if num_temp:
        print_log(
            f'removed {num_temp} temporary files of an earlier run '
            f'from {out_dir}',
            logger='current')
    info = dict(
        settings,
        img_dir=osp.abspath(img_dir),
        image_list=source,
        num_images=len(names),
        map_meta=map_meta)
    write_meta(out_dir, **info)
    print_log(
        f'pseudo-labels of {len(names)} images ({source}) to '
        f'{out_dir} with {workers} workers',
        logger='current')
    num_classes = job.num_classes
    confusion = np.zeros((num_classes, num_classes), np.int64)
    written = scored = num_valid = num_labelled = 0
    start = time.perf_counter()
    progress = ProgressBar(len(names))
    results = run_jobs(job, names, workers)
    try:
        for result in results:
            written += result['written']
            if result['confusion'] is not None:
                confusion += result['confusion']
                scored += 1
                num_valid += result['num_valid']
                num_labelled += result['num_labelled']
            progress.update()
    finally:
        # on an error or Ctrl-C: stop the workers, then delete the
        # temporary file of any PNG they were writing when stopped
        results.close()
        remove_temp_files(out_dir)
    sys.stdout.write('\n')
    seconds = time.perf_counter() - start
    summary = dict(
        written=written,
        skipped=len(names) - written,
        scored=scored,
        mIoU=None,
        seconds=seconds)
    print_log(
        f'{written} pseudo-labels written ('
        f'{written / max(seconds, 1e-9):.1f} images/s), '
        f'{summary["skipped"]} kept from an earlier run',
        logger='current')
    if gt_dir is not None:
        if scored:
            summary['mIoU'] = log_scores(confusion, scored, len(names),
                                         num_valid, num_labelled)
        else:
            print_log(
                f'no ground truth in {gt_dir} for these images',
                logger='current')
    write_meta(out_dir, **info, summary=summary)
    if json_path:
        with atomic_path(json_path) as tmp:
            with open(tmp, 'w') as f:
                json.dump(dict(info, **summary), f, indent=2)
    return summary


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Make VOC-format pseudo-label PNGs from attention maps')
    parser.add_argument('map_dir', help='map folder of tools/infer_cam.py')
    parser.add_argument('--img-dir', required=True, help='image folder')
    parser.add_argument(
        '--out-dir', required=True, help='folder of the label PNGs')
    parser.add_argument(
        '--split', default='train_aug', help='split the maps must be of')
    parser.add_argument(
        '--bg-threshold',
        type=float,
        default=0.25,
        help='background score: background where the highest map is '
        'below it (default 0.25)')
    parser.add_argument(
        '--uncertain',
        type=float,
        nargs=2,
        metavar=('LOW', 'HIGH'),
        help='background below LOW, 255 (ignore) in [LOW, HIGH), the '
        'class from HIGH (replaces --bg-threshold without --crf)')
    parser.add_argument(
        '--crf', action='store_true', help='refine with a dense CRF (PSA)')
    parser.add_argument(
        '--affinity',
        type=float,
        nargs=2,
        metavar=('LOW_ALPHA', 'HIGH_ALPHA'),
        help='write AffinityNet training labels instead: confident '
        'foreground from the background score (1 - max)^LOW_ALPHA, '
        'confident background from (1 - max)^HIGH_ALPHA, 255 between '
        '(PSA: 4 32 --crf)')
    parser.add_argument(
        '--crf-iters', type=int, default=10, help='CRF mean-field steps')
    parser.add_argument(
        '--crf-scale',
        type=float,
        default=1.0,
        help='CRF scale_factor (divides its spatial deviations)')
    parser.add_argument(
        '--workers',
        type=int,
        default=min(8,
                    os.cpu_count() or 1),
        help='processes (default: the CPUs, at most 8)')
    parser.add_argument(
        '--gt-dir', help='score the labels against these <name>.png masks')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument(
        '--json', help='write the summary and the settings to this file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    crf = None
    if args.crf:
        crf = dict(t=args.crf_iters, scale_factor=args.crf_scale)
    try:
        return make_pseudo_labels(args.map_dir, args.img_dir, args.out_dir,
                                  args.split, args.bg_threshold,
                                  args.uncertain, crf, args.workers,
                                  args.gt_dir, args.img_suffix, args.json,
                                  args.affinity)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    except KeyboardInterrupt:
        print_log(
            f'\ninterrupted: rerun the same command to finish '
            f'{args.out_dir}',
            logger='current')
        sys.exit(130)


if __name__ == '__main__':
    main()
