"""A dense CRF on the maps: the "CAM + CRF" rows of the PSA, IRN and SEAM
tables, a row ``<config> + CRF``; no model is trained.

Each image's scores ``[(1 - max_k A_k)^bg_alpha, A_1, ..., A_K]`` go
through PSA's dense CRF (``_crf_with_alpha`` of PSA's ``infer_cls.py``,
:class:`~mmadv.pseudo_labels.DenseCRF`), whose marginals ``Q`` give the
refined maps ``A'_k = Q_k / (Q_k + Q_bg)`` (0 where both are 0): as for
the random walk, thresholding them at 0.5 is the argmax of the CRF, and
the pipeline's threshold rule chooses the threshold on them as on any
maps.
"""
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict

import numpy as np

from ..datasets.map_io import (folder_classes, list_map_names, map_path,
                               read_meta, save_maps)
from ..pseudo_labels.affinity_labels import ALPHA
from ..pseudo_labels.crf import SCALE_FACTOR, STEPS, DenseCRF
from ..pseudo_labels.image_size import check_image_sizes
from ..pseudo_labels.label_folder import read_maps_and_image
from ..pseudo_labels.map_inference import prepare_map_folder
from ..utils.console import progress_bar
from ..utils.settings import setting
from ..utils.worker_pool import imap_unordered
from .base import REFINEMENTS, ImageFolder, Refinement


class _CRFMapJob:
    """Refine and write the maps of one image by name (kept when its file
    is there)."""

    def __init__(self, map_dir: str, out_dir: str, images: ImageFolder,
                 bg_alpha: float, crf: DenseCRF, num_classes: int) -> None:
        self.map_dir = map_dir
        self.out_dir = out_dir
        self.images = images
        self.bg_alpha = bg_alpha
        self.crf = crf
        self.num_classes = num_classes

    def __call__(self, name: str) -> bool:
        out = map_path(self.out_dir, name)
        if osp.isfile(out):
            return False
        classes, maps, image = read_maps_and_image(
            self.map_dir, *self.images, name, self.num_classes)
        save_maps(out, classes, crf_refined_maps(maps, image, self.bg_alpha,
                                                 self.crf))
        return True


def crf_refined_maps(maps: np.ndarray, image: np.ndarray, bg_alpha: float,
                     crf: DenseCRF) -> np.ndarray:
    """The maps of one image refined by the dense CRF (see the module
    docstring).

    Args:
        maps (np.ndarray): (K, H, W) maps in [0, 1].
        image (np.ndarray): (H, W, 3) uint8 RGB image.
        bg_alpha (float): The background score's exponent.
        crf (DenseCRF): The CRF.

    Returns:
        np.ndarray: (K, H, W) float32 refined maps in [0, 1].
    """
    if not len(maps):
        return maps.astype(np.float32)
    background = np.power(1. - maps.max(0, keepdims=True), bg_alpha)
    q = crf(image, np.concatenate([background, maps]).astype(np.float32))
    total = q[1:] + q[:1]
    return np.divide(q[1:], total, out=np.zeros_like(q[1:]),
                     where=total > 0).astype(np.float32)


@REFINEMENTS.register_module(name='dense_crf')
@dataclass(frozen=True)
class DenseCRFMaps(Refinement):
    """A dense CRF on the maps (see the module docstring)."""

    key = 'dense_crf'
    row = ' + CRF'
    tag = '_crf'

    bg_alpha: float = setting(
        4, 'background exponent of the CRF\'s scores (1 - max)^bg_alpha',
        'PSA\'s infer_cls.py (its low alpha)', domain=ALPHA)
    crf_scale: float = setting(
        DenseCRF.scale_factor,
        'divides the CRF\'s spatial deviations (for smaller images)',
        'PSA\'s imutils.crf_inference', domain=SCALE_FACTOR)
    steps: int = setting(DenseCRF.t, 'mean-field iterations',
                         'PSA\'s imutils.crf_inference', domain=STEPS)

    def write_maps(self, model, map_dir, split, out_dir, images, workers,
                   max_pixels) -> Dict[str, int]:
        maps_meta = read_meta(map_dir, split)
        names, _ = list_map_names(map_dir, maps_meta)
        check_image_sizes((osp.join(images.img_dir, n + images.img_suffix)
                           for n in names), max_pixels)
        classes, palette = folder_classes(maps_meta)
        crf = DenseCRF(t=self.steps, scale_factor=self.crf_scale)
        prepare_map_folder(
            out_dir,
            dict(split=split, ann_file=maps_meta.get('ann_file'),
                 num_images=len(names), classes=list(classes),
                 palette=palette, maps=osp.abspath(map_dir),
                 maps_meta=maps_meta, bg_alpha=self.bg_alpha,
                 crf=asdict(crf)))
        job = _CRFMapJob(map_dir, out_dir, images, self.bg_alpha, crf,
                         len(classes) - 1)
        written = 0
        with progress_bar(len(names)) as bar:
            for made in imap_unordered(
                    job, names, workers if workers > 1 else 0,
                    lambda name: f'refining the maps of {name}',
                    'the maps written so far are kept: run again to '
                    'resume'):
                written += made
                bar.update()
        return dict(total=len(names), skipped=len(names) - written,
                    written=written)
