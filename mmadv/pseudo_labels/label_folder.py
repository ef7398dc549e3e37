"""A folder of label PNGs made from a map folder by a labeler
(:func:`write_pseudo_labels`): the pseudo-labels a segmentation network
trains on, AffinityNet's affinity labels, IRN's relation labels. The job
that makes, writes and scores one image's label runs in a process pool;
the checks keep a folder from mixing labels made otherwise.

Example::

    from mmadv.pseudo_labels import write_pseudo_labels

    write_pseudo_labels('work_dirs/maps_train_aug', 'data/.../JPEGImages',
                        'work_dirs/pseudo_labels', 'train_aug',
                        dict(type='ThresholdLabeler', bg_threshold=0.3))
"""
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log
from prettytable import PrettyTable

from ..datasets.label_io import read_label_png, read_rgb_image, save_label_png
from ..datasets.layout import IMG_SUFFIX
from ..datasets.map_io import (META_FILE, folder_classes, list_map_names,
                               load_maps, map_path, read_meta, write_meta)
from ..datasets.prediction_io import FORMAT as PREDICTIONS
from ..datasets.prediction_io import load_prediction, prediction_path
from ..evaluation.map_metrics import confusion_matrix, iou_summary
from ..structures.labels import IGNORE_INDEX
from ..utils.atomic import remove_temp_files, write_json
from ..utils.console import progress_bar
from ..utils.errors import ConfigError, InputError, MissingInputError
from ..utils.provenance import changes
from ..utils.worker_pool import imap_unordered
from .image_size import DEFAULT_MAX_PIXELS, check_image_sizes
from .labeling import build_labeler

Labeler = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class LabelJob:
    """Make, write and score the label PNG of one image by name; the job
    of :func:`run_jobs`.

    For image ``<name>`` it reads ``<map_dir>/<name>.npz`` and
    ``<img_dir>/<name><img_suffix>`` (its size must be the maps' size),
    writes ``<out_dir>/<name>.png`` with ``labeler`` and
    :func:`~mmadv.pseudo_labels.label_io.save_label_png`, or keeps that
    file when it exists (resuming), and with ``gt_dir`` scores the label
    against ``<gt_dir>/<name>.png`` when that exists.

    Args:
        map_dir (str): Map folder (see :mod:`.map_io`).
        img_dir (str): Image folder.
        out_dir (str): Folder of the label PNGs.
        labeler (callable): ``labeler(classes, maps, image)`` -> ``(H, W)``
            uint8 label, e.g. a
            :class:`~mmadv.pseudo_labels.labeling.ThresholdLabeler`.
        img_suffix (str): Image suffix. Defaults to ``'.jpg'``.
        gt_dir (str, optional): Ground-truth masks. Defaults to None.
        num_classes (int): Classes of the labels, background included
            (the maps' class indices must be below ``num_classes - 1``).
            Defaults to 21.
        palette (list, optional): ``[r, g, b]`` of each label, the PNGs'
            colours (the data set's ``metainfo['palette']``). Defaults to
            VOC's.
        folder_format (str): What ``map_dir`` holds, a key of
            :data:`FOLDER_READERS`: ``'maps'`` or ``'predictions'`` (a
            segmentation network's, for an
            :class:`~mmadv.pseudo_labels.labeling.ArgmaxLabeler`).
            Defaults to ``'maps'``.
    """

    def __init__(self,
                 map_dir: str,
                 img_dir: str,
                 out_dir: str,
                 labeler: Labeler,
                 img_suffix: str = IMG_SUFFIX,
                 gt_dir: Optional[str] = None,
                 num_classes: int = 21,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 folder_format: str = 'maps') -> None:
        self.read = FOLDER_READERS[folder_format]
        self.map_dir = map_dir
        self.img_dir = img_dir
        self.out_dir = out_dir
        self.labeler = labeler
        self.img_suffix = img_suffix
        self.gt_dir = gt_dir
        self.num_classes = num_classes
        self.palette = palette

    def __call__(self, name: str) -> Dict[str, object]:
        """Returns:
            dict: ``name``; ``written`` (False when the PNG was there);
            with a ground truth, ``confusion`` (``(C, C)``, see
            :func:`~mmadv.evaluation.map_metrics.confusion_matrix`),
            ``num_valid`` (pixels of valid ground truth) and
            ``num_labelled`` (those not ignored by the label), else
            ``confusion=None``.
        """
        out_path = osp.join(self.out_dir, f'{name}.png')
        written = not osp.isfile(out_path)
        if written:
            label = self._make(name)
            save_label_png(out_path, label, self.palette)
        result = dict(name=name, written=written, confusion=None)
        gt_path = osp.join(self.gt_dir or '', f'{name}.png')
        if self.gt_dir is None or not osp.isfile(gt_path):
            return result
        if not written:
            label = read_label_png(out_path)
        gt = read_label_png(gt_path)
        if gt.shape != label.shape:
            raise InputError(f'label size {label.shape} of {out_path} != '
                             f'ground truth size {gt.shape} of {gt_path}')
        valid = gt != IGNORE_INDEX
        try:
            confusion = confusion_matrix(label, gt, self.num_classes)
        except ValueError as e:
            raise InputError(f'{gt_path}: {e}') from None
        result.update(
            confusion=confusion,
            num_valid=int(valid.sum()),
            num_labelled=int((valid & (label != IGNORE_INDEX)).sum()))
        return result

    def _make(self, name: str) -> np.ndarray:
        return self.labeler(*self.read(self.map_dir, self.img_dir,
                                       self.img_suffix, name,
                                       self.num_classes))


def _with_image(path: str, arrays: tuple, what: str, img_dir: str,
                img_suffix: str, name: str) -> tuple:
    """``(*arrays, image)``: the arrays of ``path`` (the last ``(K, H,
    W)``) and the ``(H, W, 3)`` uint8 RGB image of ``name``.

    Raises:
        InputError: The arrays are not of the image's size.
    """
    img_path = osp.join(img_dir, name + img_suffix)
    image = read_rgb_image(img_path)
    size = arrays[-1].shape[1:]
    if image.shape[:2] != size:
        raise InputError(f'{what} size {size} of {path} != image size '
                         f'{image.shape[:2]} of {img_path}')
    return (*arrays, image)


def read_maps_and_image(map_dir: str, img_dir: str, img_suffix: str,
                        name: str, num_classes: int) -> tuple:
    """``(classes, maps, image)`` of image ``name``: its map file in
    ``map_dir`` (of at most ``num_classes`` foreground classes) and its
    ``(H, W, 3)`` uint8 RGB image ``<img_dir>/<name><img_suffix>``.

    Raises:
        InputError: The maps are not of the image's size.
    """
    path = map_path(map_dir, name)
    return _with_image(path, load_maps(path, num_classes), 'map', img_dir,
                       img_suffix, name)


def _read_maps(map_dir: str, img_dir: str, img_suffix: str, name: str,
               num_labels: int) -> tuple:
    return read_maps_and_image(map_dir, img_dir, img_suffix, name,
                               num_labels - 1)


def read_prediction_and_image(pred_dir: str, img_dir: str, img_suffix: str,
                              name: str, num_labels: int) -> tuple:
    """``(labels, probs, image)`` of image ``name``: its prediction in
    ``pred_dir`` (:mod:`~mmadv.datasets.prediction_io`, labels below
    ``num_labels``) and its ``(H, W, 3)`` uint8 RGB image.

    Raises:
        InputError: The prediction is not of the image's size.
    """
    path = prediction_path(pred_dir, name)
    return _with_image(path, load_prediction(path, num_labels),
                       'prediction', img_dir, img_suffix, name)


# how a label job reads an image of its folder, by the folder's recorded
# format: ``read(folder, img_dir, img_suffix, name, num_labels)``
FOLDER_READERS = {'maps': _read_maps, PREDICTIONS: read_prediction_and_image}


def run_jobs(job: LabelJob, names: List[str],
             workers: int) -> Iterator[dict]:
    """``job(name)`` for every name, in this process (``workers <= 1``) or
    ``workers`` processes (:func:`~mmadv.utils.worker_pool.imap_unordered`
    ), in completion order. A worker that dies (a segfault of the CRF, an
    abort, the out-of-memory killer) raises an :class:`InputError` naming
    its image; closing the generator early kills the workers and waits
    for them."""
    return imap_unordered(
        job, names, workers if workers > 1 else 0,
        lambda name: f'making the label of {name}',
        'the labels written so far are kept: run again to resume')


def check_label_folder(out_dir: str, settings: dict) -> None:
    """Refuse an ``out_dir`` whose ``meta.json`` records other
    ``settings``: any key of ``settings`` or of the recorded
    ``setting_keys`` whose value differs."""
    path = osp.join(out_dir, META_FILE)
    if not osp.isfile(path):
        return
    with open(path) as f:
        old = json.load(f)
    diff = changes(old, settings,
                   set(settings) | set(old.get('setting_keys', [])))
    if diff:
        raise InputError(f'{out_dir} holds labels made with other settings '
                         f'or maps ({", ".join(diff)}; {path}): choose '
                         'another output folder or delete it')


def _log_scores(confusion: np.ndarray, classes: Sequence[str],
                num_scored: int, num_images: int, num_valid: int,
                num_labelled: int) -> float:
    """Log the labels' scores; their mIoU (a fraction)."""
    scores = iou_summary(confusion)
    table = PrettyTable()
    table.add_column('Class', list(classes))
    for key in ('IoU', 'Precision', 'Recall'):
        table.add_column(key, np.round(scores[key] * 100, 2).tolist())
    print_log('per class results:\n' + table.get_string(), logger='current')
    print_log(
        f'label mIoU {scores["mIoU"] * 100:.2f} on the {num_scored} of '
        f'{num_images} images with ground truth, over the labelled pixels, '
        f'which are {num_labelled / max(num_valid, 1) * 100:.2f}% of the '
        'scored ones', logger='current')
    return float(scores['mIoU'])


def write_pseudo_labels(map_dir: str,
                        img_dir: str,
                        out_dir: str,
                        split: str,
                        labeler: Union[dict, object],
                        workers: int = 1,
                        gt_dir: Optional[str] = None,
                        img_suffix: str = IMG_SUFFIX,
                        json_path: Optional[str] = None,
                        max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """Write a label PNG per image of ``map_dir`` into ``out_dir``.

    Image ``<name>`` gets ``<out_dir>/<name>.png``, a PNG in the palette of
    the maps' data set (recorded in their folder) of labels 0
    (background), ``c + 1`` (class ``c``) and 255 (ignore) made by
    ``labeler`` from its maps and ``<img_dir>/<name><img_suffix>``; point
    an mmseg dataset's ``seg_map_path`` at ``out_dir`` to train on them.
    The images are the map folder's recorded image list when that file
    exists, else its ``.npz`` files.

    The run is resumable: PNGs already there are kept (each is written to
    a temporary file and renamed, so an interrupted run leaves no partial
    one; Ctrl-C stops the workers and deletes their temporary files), and
    ``<out_dir>/meta.json`` records the settings, so that a rerun with
    other settings is refused instead of mixing labels. With ``gt_dir``
    the labels (new and kept) are scored against the ground-truth masks
    that exist, over the pixels they label (see
    :func:`~mmadv.evaluation.map_metrics.confusion_matrix`).

    Args:
        map_dir (str): A map folder (:mod:`mmadv.datasets.map_io`), or a
            prediction folder (:mod:`mmadv.datasets.prediction_io`) for an
            ``ArgmaxLabeler`` (a self-training round).
        img_dir (str): Image folder.
        out_dir (str): Folder of the label PNGs and their ``meta.json``.
        split (str): The split the maps must be of.
        labeler (dict | callable): A labeler or its config, e.g.
            ``dict(type='ThresholdLabeler', bg_threshold=0.3)`` or
            ``dict(type='AffinityLabeler', low_alpha=4, high_alpha=32,
            crf=dict())`` or ``dict(type='ArgmaxLabeler')``
            (:mod:`mmadv.pseudo_labels.labeling`); one that labels the
            other kind of folder is refused.
        workers (int): Processes; 1 works in this process. Defaults to 1.
        gt_dir (str, optional): Ground-truth masks to score against.
            Defaults to None.
        img_suffix (str): Image suffix. Defaults to ``'.jpg'``.
        json_path (str, optional): Also write the summary, with the
            settings, to this file. Defaults to None.
        max_pixels (int): With a CRF (the labeler's ``crf``), the largest
            image (H x W) taken: a larger one is refused from the image
            headers before any label is made (the pipeline's setting
            ``max_pixels``). Defaults to
            :data:`~mmadv.pseudo_labels.image_size.DEFAULT_MAX_PIXELS`.

    Returns:
        dict: ``written`` and ``skipped`` (PNGs kept) counts, ``scored``
        (images with a ground truth), ``mIoU`` (a fraction, or None
        without ground truth) and ``seconds``.
    """
    for folder, what in ((img_dir, 'image'), (gt_dir, 'ground-truth')):
        if folder is not None and not osp.isdir(folder):
            raise MissingInputError(f'{what} folder {folder} not found')
    map_meta = read_meta(map_dir, split)
    names, source = list_map_names(map_dir, map_meta)
    if isinstance(labeler, dict):
        labeler = build_labeler(labeler)
    folder_format = map_meta.get('format', 'maps')
    if getattr(labeler, 'reads', 'maps') != folder_format:
        raise ConfigError(f'{map_dir} holds {folder_format}, and '
                          f'{type(labeler).__name__} labels '
                          f'{getattr(labeler, "reads", "maps")}')
    if getattr(labeler, 'crf', None) is not None:
        check_image_sizes((osp.join(img_dir, name + img_suffix)
                           for name in names), max_pixels)
    # the maps' own record too: maps re-made otherwise make these stale
    settings = dict(map_dir=osp.abspath(map_dir), split=split,
                    map_meta=map_meta, **labeler.settings())
    classes, palette = folder_classes(map_meta)
    job = LabelJob(map_dir, img_dir, out_dir, labeler, img_suffix, gt_dir,
                   len(classes), palette, folder_format)
    os.makedirs(out_dir, exist_ok=True)
    check_label_folder(out_dir, settings)
    num_temp = remove_temp_files(out_dir, '.png')
    if num_temp:
        print_log(f'removed {num_temp} temporary files of an earlier run '
                  f'from {out_dir}', logger='current')
    info = dict(settings, setting_keys=sorted(settings),
                img_dir=osp.abspath(img_dir), image_list=source,
                num_images=len(names))
    write_meta(out_dir, **info)
    print_log(f'labels of {len(names)} images ({source}) to {out_dir} with '
              f'{workers} workers', logger='current')
    num_classes = job.num_classes
    confusion = np.zeros((num_classes, num_classes), np.int64)
    written = scored = num_valid = num_labelled = 0
    start = time.perf_counter()
    results = run_jobs(job, names, workers)
    try:
        with progress_bar(len(names)) as bar:
            for result in results:
                written += result['written']
                if result['confusion'] is not None:
                    confusion += result['confusion']
                    scored += 1
                    num_valid += result['num_valid']
                    num_labelled += result['num_labelled']
                bar.update()
    finally:
        # on an error or Ctrl-C: stop the workers, then delete the
        # temporary file of any PNG they were writing when stopped
        results.close()
        remove_temp_files(out_dir, '.png')
    seconds = time.perf_counter() - start
    summary = dict(written=written, skipped=len(names) - written,
                   scored=scored, mIoU=None, seconds=seconds)
    print_log(f'{written} labels written ({written / max(seconds, 1e-9):.1f}'
              f' images/s), {summary["skipped"]} kept from an earlier run',
              logger='current')
    if gt_dir is not None:
        if scored:
            summary['mIoU'] = _log_scores(confusion, classes, scored,
                                          len(names), num_valid,
                                          num_labelled)
        else:
            print_log(f'no ground truth in {gt_dir} for these images',
                      logger='current')
    write_meta(out_dir, **info, summary=summary)
    if json_path:
        write_json(json_path, dict(info, **summary))
    return summary


def write_affinity_labels(map_dir: str,
                          img_dir: str,
                          out_dir: str,
                          split: str,
                          alphas: Sequence[float],
                          crf: Optional[dict],
                          workers: int = 1,
                          img_suffix: str = IMG_SUFFIX,
                          json_path: Optional[str] = None,
                          max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """AffinityNet's training labels of ``map_dir``: confident foreground
    from the background score ``(1 - max)^alphas[0]``, confident
    background from ``(1 - max)^alphas[1]``, 255 between (PSA: 4, 32 and
    the CRF); :func:`write_pseudo_labels` with an
    :class:`~mmadv.pseudo_labels.affinity_labels.AffinityLabeler` (and,
    with ``crf``, ``max_pixels``)."""
    low_alpha, high_alpha = alphas
    return write_pseudo_labels(
        map_dir, img_dir, out_dir, split,
        dict(type='AffinityLabeler', low_alpha=low_alpha,
             high_alpha=high_alpha, crf=crf), workers,
        img_suffix=img_suffix, json_path=json_path, max_pixels=max_pixels)
