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
  counted in ``DONE``);
- with ``keep_unlabelled=True``, also
  ``ImageSets/Segmentation/{train,val}_all.txt``: every image of the
  split, as MCTformer's lists (82,783 train, 40,504 val images); an image
  without annotations gets an all-background mask and no label.

The instances files are checked before anything is written: each wrong
record (a file name that is not a plain base name, an id listed twice, a
missing or malformed field, a size that is not the image's) is refused in
one line naming the file, the image or annotation and the field.

:class:`COCOImageLabelDataset` (image labels) and
:class:`COCOLabelPNGDataset` (masks, pseudo-labels) read it with COCO's
classes.
"""
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
from mmseg.registry import DATASETS

from ..utils.atomic import write_json, write_text
from ..utils.console import progress_bar
from ..utils.errors import ConfigError, MissingInputError, OutputExistsError
from .coco_instances import (annotations_by_image, category_labels,
                             check_image_file, image_records, read_instances,
                             read_json)
from .label_io import save_label_png
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


class _Instances(NamedTuple):
    """One split's instances file, checked by :func:`_load_split`."""
    path: str  # the instances file
    img_dir: str
    data: dict  # its JSON
    labels: Dict[int, int]  # category id -> label 1..80
    images: Dict[int, dict]  # image id -> record
    annotations: Dict[int, List[dict]]  # image id -> its annotations


def _check_link(link: str, source: str, where: str) -> None:
    """Refuse a link of an earlier run that is not the one to ``source``
    (a file there, or a link to another image of the same name)."""
    target = osp.abspath(source)
    if osp.lexists(link) and (not osp.islink(link)
                              or os.readlink(link) != target):
        raise OutputExistsError(f'{link} is not a link to {target} ({where})'
                                ': choose another folder or delete it')


def _listed(instances: _Instances, keep_unlabelled: bool) -> List[int]:
    """The ids of the images the lists name, in id order: those with an
    annotation, or all with ``keep_unlabelled``."""
    return [
        image_id for image_id in sorted(instances.images)
        if keep_unlabelled or image_id in instances.annotations
    ]


def _load_split(coco_root: str, split: str, out_root: str,
                keep_unlabelled: bool, names: Dict[str, Tuple[str, int]],
                show_progress: bool) -> _Instances:
    """Read and check the instances file of ``split``, and the files of
    the images to convert (their size; the links of an earlier run),
    before anything is written.

    Raises:
        MissingInputError: The image folder, the instances file or an
            image to convert is missing.
        InputError: A record of the instances file is wrong, or an
            image's size is not its record's.
        OutputExistsError: A link in ``out_root`` points elsewhere.
    """
    img_folder, instances = COCO_SPLITS[split]
    img_dir = osp.join(coco_root, img_folder)
    path = osp.join(coco_root, instances)
    for needed in (img_dir, path):
        if not osp.exists(needed):
            raise MissingInputError(f'{needed} not found (COCO 2014 '
                                    f'release in {coco_root})')
    data = read_instances(path)
    labels = category_labels(data['categories'], path, COCO_CLASSES)
    images = image_records(data['images'], path, names)
    loaded = _Instances(path, img_dir, data, labels, images,
                        annotations_by_image(data['annotations'], path,
                                             images, labels))
    listed = _listed(loaded, keep_unlabelled)
    with progress_bar(len(listed) if show_progress else 0) as bar:
        for image_id in listed:
            bar.update()
            info = images[image_id]
            source = osp.join(img_dir, info['file_name'])
            if not osp.isfile(source):
                raise MissingInputError(f'{source} not found ({path} '
                                        f'lists image {image_id})')
            where = f'{path}: image {image_id}'
            check_image_file(info, source, where)
            name = osp.splitext(info['file_name'])[0]
            _check_link(osp.join(out_root, 'JPEGImages', name + '.jpg'),
                        source, where)
    return loaded


def _earlier_runs(out_root: str, coco_root: str, splits: Sequence[str],
                  keep_unlabelled: bool) -> Dict[str, dict]:
    """The ``DONE`` record's splits of an earlier conversion into
    ``out_root`` (none without one).

    Raises:
        OutputExistsError: ``out_root`` was converted from another
            ``coco_root``, or a split of ``splits`` was converted with
            ``keep_unlabelled`` and is now converted without it (its
            ``<split>_all.txt``, masks and labels of unlabelled images
            would be stale).
    """
    done = osp.join(out_root, DONE_FILE)
    if not osp.isfile(done):
        return {}
    record = read_json(done)
    made_from = record['coco_root']
    if made_from != osp.abspath(coco_root):
        raise OutputExistsError(
            f'{out_root} was converted from {made_from}, not '
            f'{osp.abspath(coco_root)} (its image links point there): '
            'choose another folder or delete it')
    earlier = record['splits']
    for split in splits:
        every = split_file(f'{split}_all')
        if not keep_unlabelled and every in earlier.get(split, {}).get(
                'lists', ()):
            raise OutputExistsError(
                f'{out_root} was converted with keep_unlabelled (it holds '
                f'{every}): convert it with keep_unlabelled=True '
                '(--keep-unlabelled) again, or into another folder')
    return earlier


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


def _convert_split(instances: _Instances, out_root: str,
                   keep_unlabelled: bool, image_labels: Dict[str, List[str]],
                   show_progress: bool) -> Tuple[List[str], List[str]]:
    """Link, mask and label the images of a checked split that the lists
    name (masks already there are kept); ``image_labels`` is updated.

    Returns:
        tuple[list[str], list[str]]: The names of the images with an
        annotation, and of all converted, in id order.
    """
    from pycocotools.coco import COCO

    coco = COCO()  # the index of the checked JSON, not read again
    coco.dataset = instances.data
    coco.createIndex()
    labels = instances.labels
    labelled, every = [], []
    listed = _listed(instances, keep_unlabelled)
    with progress_bar(len(listed) if show_progress else 0) as bar:
        for image_id in listed:
            bar.update()
            anns = instances.annotations.get(image_id, [])
            info = instances.images[image_id]
            name = osp.splitext(info['file_name'])[0]
            link = osp.join(out_root, 'JPEGImages', name + '.jpg')
            if not osp.lexists(link):
                os.symlink(
                    osp.abspath(osp.join(instances.img_dir,
                                         info['file_name'])), link)
            png = osp.join(out_root, 'SegmentationClass', name + '.png')
            if not osp.isfile(png):
                save_label_png(png, semantic_mask(coco, info, anns, labels),
                               COCO_METAINFO['palette'])
            image_labels[name] = [
                COCO_CLASSES[labels[cat] - 1]
                for cat in sorted({a['category_id'] for a in anns})
            ]
            every.append(name)
            if anns:
                labelled.append(name)
    return labelled, every


def convert_coco2014(coco_root: str, out_root: str,
                     splits: Sequence[str] = ('train', 'val'),
                     show_progress: bool = True,
                     keep_unlabelled: bool = False) -> Dict[str, dict]:
    """Write the VOC layout of the module docstring under ``out_root``
    from the COCO 2014 release in ``coco_root``.

    Every instances file of ``splits`` and the size of every image to
    convert are checked first, so that a wrong file leaves ``out_root`` as
    it was; nothing is ever written outside ``out_root``.

    Resumable: masks already there are kept (each is written to a
    temporary file and renamed); the lists, the labels and ``DONE`` are
    written last. A tree converted from another release folder is
    refused (its links point there).

    ``keep_unlabelled`` keeps ``<split>.txt`` as it is and adds
    ``<split>_all.txt`` of every image, the images without annotations
    with an all-background mask and an empty label list. The image-label
    data sets refuse an image without label (``... has no foreground class
    label``), so the stage-1 configs keep ``train.txt``; ``val_all.txt`` is
    for scoring the segmentation network on all 40,504 val masks as
    MCTformer does (``val_dataloader.dataset.ann_file``). Converting a
    split without the option after it was converted with it is refused
    (its ``_all`` list would be stale); with it after without, the tree is
    completed.

    Args:
        coco_root (str): Holds ``train2014/``, ``val2014/`` and
            ``annotations/``.
        out_root (str): The converted data set (the configs' data root).
        splits (Sequence[str]): Of ``'train'`` and ``'val'``.
        show_progress (bool): A progress bar per split, for the checks and
            for the conversion.
        keep_unlabelled (bool): Also write ``<split>_all.txt``, every
            image. Defaults to False.

    Returns:
        dict: Per split, ``images`` (listed in ``<split>.txt``),
        ``unlabelled`` (left out of it); with ``keep_unlabelled`` also
        ``lists``, the two lists written. ``DONE`` records ``lists`` for
        every split converted into ``out_root``.

    Raises:
        ConfigError: A split that is not ``'train'`` or ``'val'``.
        MissingInputError: A folder, an instances file or an image is
            missing.
        InputError: A wrong record in an instances file (one line naming
            the file, the image or annotation id and the field), its
            categories are not COCO's 80, or an image's size is not its
            record's.
        OutputExistsError: ``out_root`` was converted from another
            ``coco_root`` or with ``keep_unlabelled`` (and is converted
            without), or holds a link to another image.
    """
    unknown = [split for split in splits if split not in COCO_SPLITS]
    if unknown:
        raise ConfigError(f'splits: {", ".join(map(str, unknown))} not of '
                          f'{", ".join(COCO_SPLITS)}')
    records = _earlier_runs(out_root, coco_root, splits, keep_unlabelled)
    output_names = {}
    loaded = {
        split: _load_split(coco_root, split, out_root, keep_unlabelled,
                           output_names, show_progress)
        for split in splits
    }
    for folder in ('JPEGImages', 'SegmentationClass',
                   osp.dirname(split_file('train'))):
        os.makedirs(osp.join(out_root, folder), exist_ok=True)
    labels_path = osp.join(out_root, LABELS_FILE)
    image_labels = read_json(labels_path) if osp.isfile(labels_path) \
        else {}
    report = {}
    for split, instances in loaded.items():
        labelled, every = _convert_split(instances, out_root,
                                         keep_unlabelled, image_labels,
                                         show_progress)
        lists = {split_file(split): labelled}
        if keep_unlabelled:
            lists[split_file(f'{split}_all')] = every
        for list_file, names in lists.items():
            write_text(osp.join(out_root, list_file),
                       ''.join(n + '\n' for n in names))
        report[split] = dict(
            images=len(labelled),
            unlabelled=len(instances.images) - len(labelled))
        records[split] = dict(report[split], lists=list(lists))
        if keep_unlabelled:
            report[split]['lists'] = list(lists)
    write_json(labels_path, image_labels)
    write_json(osp.join(out_root, DONE_FILE),
               dict(coco_root=osp.abspath(coco_root), splits=records))
    return report
