"""MS COCO 2014 for weakly-supervised segmentation: 80 classes and
background, as WSSS papers evaluate it.

:func:`convert_coco2014` turns the official release (``train2014/``,
``val2014/``, ``annotations/instances_{train,val}2014.json``) into the
VOC layout every mmadv stage reads, once:

- ``JPEGImages/<name>.jpg``: links to the images (no copy);
- ``SegmentationClass/<name>.png``: semantic masks from the instance
  annotations (pycocotools), label ``k`` for the ``k``-th category in id
  order (1 person ... 80 toothbrush), 0 background; every annotation is
  painted, crowd regions too, the larger first, so that a small object on
  a larger one keeps its pixels;
- ``cls_labels.json``: ``name -> [class names]``, the image labels (the
  categories of the image's annotations), read with
  ``label_source='file'``;
- ``ImageSets/Segmentation/{train,val}.txt``: the images with at least one
  annotation (WSSS trains and scores only labelled images; the others are
  counted in ``DONE``).

:class:`COCOImageLabelDataset` (image labels) and
:class:`COCOLabelPNGDataset` (masks, pseudo-labels) read it with COCO's
classes.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from mmseg.registry import DATASETS

from ..utils.atomic import write_json, write_text
from ..utils.console import progress_bar
from ..utils.errors import InputError, MissingInputError, OutputExistsError
from .label_png_dataset import LabelPNGDataset
from .layout import split_file
from .voc_image_labels import ImageLabelDataset

COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
    'truck', 'boat', 'traffic light', 'fire hydrant', 'stop sign',
    'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
    'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
    'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
    'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork',
    'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
    'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair',
    'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv',
    'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave',
    'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
    'scissors', 'teddy bear', 'hair drier', 'toothbrush')
# the official splits: (image folder, instances file)
COCO_SPLITS = dict(
    train=('train2014', 'annotations/instances_train2014.json'),
    val=('val2014', 'annotations/instances_val2014.json'))
LABELS_FILE = 'cls_labels.json'
DONE_FILE = 'DONE'


def voc_colour_map(num_labels: int) -> List[List[int]]:
    """VOC's colour map (``VOCdevkit/VOCcode/labelcolormap.m``: the bits of
    the label spread over R, G and B): VOC's palette for labels 0-20 and
    distinct colours after them."""
    colours = []
    for label in range(num_labels):
        rgb, value = [0, 0, 0], label
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
        colours.append(rgb)
    return colours


COCO_METAINFO = dict(
    classes=('background', ) + COCO_CLASSES, palette=voc_colour_map(81))


@DATASETS.register_module()
class COCOImageLabelDataset(ImageLabelDataset):
    """COCO 2014 in the layout of :func:`convert_coco2014` with image-level
    labels: :class:`~mmadv.datasets.ImageLabelDataset` with COCO's 80
    classes and background (``label_source='file'``, ``labels_file=
    'cls_labels.json'``)."""
    METAINFO = COCO_METAINFO


@DATASETS.register_module()
class COCOLabelPNGDataset(LabelPNGDataset):
    """COCO 2014's masks or pseudo-labels in the layout of
    :func:`convert_coco2014`: :class:`~mmadv.datasets.LabelPNGDataset`
    with COCO's 81 labels."""
    METAINFO = COCO_METAINFO


def _categories(coco, path: str) -> Dict[int, int]:
    """Category id -> label 1..80 (id order); the names must be COCO's."""
    ids = sorted(coco.getCatIds())
    names = tuple(c['name'] for c in coco.loadCats(ids))
    if names != COCO_CLASSES:
        raise InputError(f'{path}: its {len(names)} categories in id order '
                         f'are not COCO 2014\'s 80 ({", ".join(names[:3])}, '
                         f'... against {", ".join(COCO_CLASSES[:3])}, ...)')
    return {cat: label for label, cat in enumerate(ids, start=1)}


def semantic_mask(coco, info: dict, anns: List[dict],
                  labels: Dict[int, int]) -> np.ndarray:
    """The ``(H, W)`` uint8 semantic mask of one image (``info``, its
    ``loadImgs`` record) from its instance annotations ``anns``: label
    ``labels[category]`` where an annotation is, 0 elsewhere; larger
    annotations painted first."""
    mask = np.zeros((info['height'], info['width']), np.uint8)
    for ann in sorted(anns, key=lambda a: -a['area']):
        mask[coco.annToMask(ann) > 0] = labels[ann['category_id']]
    return mask


def convert_coco2014(coco_root: str, out_root: str,
                     splits: Sequence[str] = ('train', 'val'),
                     show_progress: bool = True) -> Dict[str, dict]:
    """Write the VOC layout of the module docstring under ``out_root``
    from the COCO 2014 release in ``coco_root``.

    Resumable: masks already there are kept (each is written to a
    temporary file and renamed); the lists, the labels and ``DONE`` are
    written last. A tree converted from another release folder is
    refused (its links point there).

    Args:
        coco_root (str): Holds ``train2014/``, ``val2014/`` and
            ``annotations/``.
        out_root (str): The converted data set (the configs' data root).
        splits (Sequence[str]): Of ``'train'`` and ``'val'``.
        show_progress (bool): A progress bar per split.

    Returns:
        dict: Per split, ``images`` (listed), ``unlabelled`` (left out).

    Raises:
        MissingInputError: A folder or an instances file is missing.
        InputError: The instances file's categories are not COCO's 80.
        OutputExistsError: ``out_root`` was converted from another
            ``coco_root``.
    """
    from pycocotools.coco import COCO

    # here: mmadv.pseudo_labels imports mmadv.datasets
    from ..pseudo_labels.label_io import save_label_png

    done = osp.join(out_root, DONE_FILE)
    if osp.isfile(done):
        with open(done) as f:
            made_from = json.load(f)['coco_root']
        if made_from != osp.abspath(coco_root):
            raise OutputExistsError(
                f'{out_root} was converted from {made_from}, not '
                f'{osp.abspath(coco_root)} (its image links point there): '
                'choose another folder or delete it')
    for folder in ('JPEGImages', 'SegmentationClass',
                   osp.dirname(split_file('train'))):
        os.makedirs(osp.join(out_root, folder), exist_ok=True)
    labels_path = osp.join(out_root, LABELS_FILE)
    image_labels = {}
    if osp.isfile(labels_path):
        with open(labels_path) as f:
            image_labels = json.load(f)
    report = {}
    for split in splits:
        img_folder, instances = COCO_SPLITS[split]
        img_dir = osp.join(coco_root, img_folder)
        path = osp.join(coco_root, instances)
        for needed in (img_dir, path):
            if not osp.exists(needed):
                raise MissingInputError(f'{needed} not found (COCO 2014 '
                                        f'release in {coco_root})')
        coco = COCO(path)
        labels = _categories(coco, path)
        names, unlabelled = [], 0
        image_ids = sorted(coco.getImgIds())
        with progress_bar(len(image_ids) if show_progress else 0) as bar:
            for image_id in image_ids:
                bar.update()
                anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
                if not anns:
                    unlabelled += 1
                    continue
                info = coco.loadImgs(image_id)[0]
                file_name = info['file_name']
                name = osp.splitext(file_name)[0]
                source = osp.join(img_dir, file_name)
                if not osp.isfile(source):
                    raise MissingInputError(f'{source} not found ({path} '
                                            f'lists image {image_id})')
                link = osp.join(out_root, 'JPEGImages', name + '.jpg')
                if not osp.lexists(link):
                    os.symlink(osp.abspath(source), link)
                png = osp.join(out_root, 'SegmentationClass', name + '.png')
                if not osp.isfile(png):
                    save_label_png(png, semantic_mask(coco, info, anns,
                                                      labels),
                                   COCO_METAINFO['palette'])
                image_labels[name] = [
                    COCO_CLASSES[labels[cat] - 1] for cat in sorted(
                        {a['category_id'] for a in anns})]
                names.append(name)
        write_text(osp.join(out_root, split_file(split)),
                   ''.join(n + '\n' for n in names))
        report[split] = dict(images=len(names), unlabelled=unlabelled)
    write_json(labels_path, image_labels)
    write_json(osp.join(out_root, DONE_FILE),
               dict(coco_root=osp.abspath(coco_root), splits=report))
    return report
