"""A folder of label PNGs made from a map folder by a labeler: the job that
makes, writes and scores one image's label, run in a process pool, and the
checks that keep a folder from mixing labels made otherwise."""
import json
import os.path as osp
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np

from ..datasets.label_io import read_label_png, read_rgb_image, save_label_png
from ..datasets.layout import IMG_SUFFIX
from ..datasets.map_io import META_FILE, load_maps, map_path
from ..evaluation.map_metrics import confusion_matrix
from ..structures.labels import IGNORE_INDEX
from ..utils.errors import InputError
from ..utils.provenance import changes
from ..utils.worker_pool import imap_unordered

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
    """

    def __init__(self,
                 map_dir: str,
                 img_dir: str,
                 out_dir: str,
                 labeler: Labeler,
                 img_suffix: str = IMG_SUFFIX,
                 gt_dir: Optional[str] = None,
                 num_classes: int = 21,
                 palette: Optional[Sequence[Sequence[int]]] = None) -> None:
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
        path = map_path(self.map_dir, name)
        classes, maps = load_maps(path, self.num_classes - 1)
        img_path = osp.join(self.img_dir, name + self.img_suffix)
        image = read_rgb_image(img_path)
        if image.shape[:2] != maps.shape[1:]:
            raise InputError(f'map size {maps.shape[1:]} of {path} != '
                             f'image size {image.shape[:2]} of {img_path}')
        return self.labeler(classes, maps, image)


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
