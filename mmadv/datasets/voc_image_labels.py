"""PASCAL VOC with image-level labels, for weakly-supervised segmentation.

The classifier of a weakly-supervised method sees one multi-hot vector of
foreground classes per image; the pixel masks are read only to evaluate.
"""
import logging
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, Iterable, List, Optional

import cv2
import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import is_abs
from mmseg.datasets import BaseSegDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from ..utils.errors import (ConfigError, InputError, MissingInputError,
                            MMAdvError, one_line)
from .label_files import LabelEntry, read_labels_file
from .layout import IMG_SUFFIX, image_list_lines, split_file

LABEL_SOURCES = ('xml', 'file', 'mask')


@DATASETS.register_module()
class ImageLabelDataset(BaseSegDataset):
    """Images in VOC's layout with their image-level (multi-hot) labels, of
    the classes the config names: ``metainfo=dict(classes=('background',
    ...), palette=[...])``, background first (your own data; the VOC 2012
    classes are :class:`VOCImageLabelDataset`'s).

    Each data info holds ``img_labels``, a float32 vector of shape
    ``(C,)`` over the foreground classes (``C = len(classes) - 1`` = 20 on
    VOC; entry ``c`` is class ``c + 1`` of ``metainfo['classes']``), and
    ``seg_map_path``, the ground-truth mask when that file exists (for
    evaluation only) or ``None``.

    The labels come from one of three sources:

    - ``'xml'``: the ``<object><name>`` of ``<xml_dir>/<name>.xml``, the
      truly weak setting of PSA (Ahn and Kwak, CVPR 2018,
      https://arxiv.org/abs/1803.10464) and SEAM.
    - ``'file'``: ``labels_file``, either a ``.npy`` holding a dict
      ``name -> multi-hot`` (PSA's ``cls_labels.npy``) or a ``.json``
      mapping ``name`` to a list of class names or of foreground indices
      ``0 .. C - 1``.
    - ``'mask'``: the values present in the segmentation PNG (pixel value
      ``v`` in ``1 .. C`` is foreground class ``v - 1``; 0 and
      ``ignore_index`` are skipped).

    Objects of a class that ``METAINFO`` knows but ``metainfo['classes']``
    leaves out are dropped (a VOC subset); an unknown class name is an
    error.

    Args:
        ann_file (str): Image list, one name without suffix per line,
            relative to ``data_root``; blank lines are skipped.
            Defaults to ``'ImageSets/Segmentation/train_aug.txt'``.
        data_prefix (dict): Image and mask folders relative to
            ``data_root``. Defaults to ``dict(img_path='JPEGImages',
            seg_map_path='SegmentationClassAug')``.
        label_source (str): ``'xml'``, ``'file'`` or ``'mask'``.
            Defaults to ``'xml'``.
        xml_dir (str): Folder of the VOC XML annotations, relative to
            ``data_root``. Defaults to ``'Annotations'``.
        labels_file (str, optional): Label file for ``label_source='file'``,
            relative to ``data_root`` unless absolute. Defaults to None.
        img_suffix (str): Image suffix. Defaults to ``'.jpg'``.
        seg_map_suffix (str): Mask suffix. Defaults to ``'.png'``.
        skip_invalid (bool): Leave out the images whose files are missing
            or do not read, with a warning, instead of stopping (training
            draws another image). Defaults to False: every bad file stops
            the run with one line naming it.
        warn_invalid (bool): With ``skip_invalid``, warn with the count of
            the images left out and the first one. Defaults to True
            (:func:`~mmadv.apis.check_data` lists them itself).
        **kwargs: The other arguments of
            :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict()

    def __init__(self,
                 ann_file: str = split_file('train_aug'),
                 data_prefix: dict = dict(
                     img_path='JPEGImages',
                     seg_map_path='SegmentationClassAug'),
                 label_source: str = 'xml',
                 xml_dir: str = 'Annotations',
                 labels_file: Optional[str] = None,
                 img_suffix: str = IMG_SUFFIX,
                 seg_map_suffix: str = '.png',
                 skip_invalid: bool = False,
                 warn_invalid: bool = True,
                 **kwargs) -> None:
        if label_source not in LABEL_SOURCES:
            raise ConfigError(f'label_source must be one of {LABEL_SOURCES},'
                              f' got {label_source!r}')
        if label_source == 'file' and not labels_file:
            raise ConfigError("label_source='file' needs labels_file")
        self.label_source = label_source
        self.xml_dir = xml_dir
        self.labels_file = labels_file
        self.skip_invalid = skip_invalid
        self.warn_invalid = warn_invalid
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    @property
    def fg_classes(self) -> tuple:
        """tuple[str]: The foreground class names, in label order."""
        # ``metainfo`` is a deep copy: read once per image, it costs more
        # than the XML
        return tuple(self._metainfo['classes'][1:])

    @property
    def num_fg_classes(self) -> int:
        """int: Length ``C`` of the ``img_labels`` vectors."""
        return len(self.fg_classes)

    def _join_prefix(self) -> None:
        """Join ``data_root`` with ``xml_dir`` and ``labels_file`` too."""
        super()._join_prefix()
        if self.data_root:
            if not is_abs(self.xml_dir):
                self.xml_dir = fileio.join_path(self.data_root, self.xml_dir)
            if self.labels_file and not is_abs(self.labels_file):
                self.labels_file = fileio.join_path(self.data_root,
                                                    self.labels_file)

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)

    def load_data_list(self) -> List[dict]:
        """Read the image list and the label of every image once.

        Returns:
            list[dict]: Data infos with ``img_path``, ``seg_map_path``,
            ``label_map``, ``reduce_zero_label``, ``seg_fields`` and
            ``img_labels``.

        With ``skip_invalid``, an image whose files are missing or wrong
        is left out instead (a warning counts them and names the first).

        Raises:
            MissingInputError: The list, an image, an XML file, a mask or
                the label file is missing.
            InputError: A malformed XML file or mask, an unknown class, or
                an image without a label.
        """
        if not self.ann_file or not self._exists(self.ann_file):
            raise MissingInputError(f'image list {self.ann_file} not found')
        img_dir = self.data_prefix.get('img_path') or ''
        seg_dir = self.data_prefix.get('seg_map_path')
        read_labels = self._label_reader()
        list_name = osp.basename(self.ann_file)
        lines = image_list_lines(
            fileio.get_text(self.ann_file, backend_args=self.backend_args),
            self.ann_file)
        data_list, skipped = [], []
        for line_no, name in lines:
            try:
                img_path = fileio.join_path(img_dir, name + self.img_suffix)
                if not self._exists(img_path):
                    raise MissingInputError(
                        f'{list_name} line {line_no}: {img_path} not found')
                seg_map_path = None
                if seg_dir:
                    seg_map_path = fileio.join_path(
                        seg_dir, name + self.seg_map_suffix)
                    if not self._exists(seg_map_path):
                        seg_map_path = None
                data_list.append(
                    dict(
                        img_path=img_path,
                        seg_map_path=seg_map_path,
                        label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label,
                        seg_fields=[],
                        img_labels=read_labels(name)))
            except MMAdvError as e:
                if not self.skip_invalid:
                    raise
                skipped.append(str(e))
        self.invalid = skipped  # the lines of the images left out
        if skipped and not data_list:
            raise InputError(f'no valid image in {self.ann_file}: all '
                             f'{len(skipped)} were left out (first: '
                             f'{skipped[0]})')
        if not data_list:
            raise InputError(f'no image in {self.ann_file}')
        if skipped and self.warn_invalid:
            print_log(
                f'skip_invalid: left out {len(skipped)} of '
                f'{len(skipped) + len(data_list)} images of {self.ann_file} '
                f'(first: {skipped[0]})',
                logger='current',
                level=logging.WARNING)
        return data_list

    def prepare_data(self, idx: int) -> Any:
        """The pipeline's output for image ``idx``.

        An error of the pipeline (an image or mask that does not decode, a
        transform that refuses it) becomes one line naming the image's
        files; with ``skip_invalid`` in training a warning instead, and
        None, so that mmengine's ``BaseDataset`` draws another image. Other
        errors (a bug in a transform) keep their traceback.
        """
        info = self.get_data_info(idx)
        try:
            return self.pipeline(info)
        except (MMAdvError, OSError, ValueError, AssertionError,
                cv2.error) as e:  # a file that does not read (mmcv asserts)
            files = ' and '.join(
                str(p) for p in (info['img_path'], info.get('seg_map_path'))
                if p)
            error = str(e) if isinstance(e, MMAdvError) else \
                f'cannot load {files}: {one_line(e)}'
            if not self.skip_invalid or self.test_mode:
                raise InputError(error) from None
            print_log(f'skip_invalid: {error}', logger='current',
                      level=logging.WARNING)
            return None

    def _label_reader(self) -> Callable[[str], np.ndarray]:
        """The function ``name -> img_labels`` of ``label_source``."""
        if self.label_source == 'xml':
            return self._labels_from_xml
        if self.label_source == 'mask':
            return self._labels_from_mask
        table = self._load_labels_file()
        return lambda name: self._labels_from_table(table, name)

    def _multi_hot(self, indices: Iterable[int], source: str,
                   name: str) -> np.ndarray:
        """Multi-hot ``(C,)`` float32 vector; an empty set is an error."""
        labels = np.zeros(self.num_fg_classes, dtype=np.float32)
        labels[list(indices)] = 1.
        if not labels.any():
            raise InputError(f'{source}: image {name} has no foreground '
                             'class label')
        return labels

    def _class_indices(self, names: Iterable[str], source: str,
                       name: str) -> List[int]:
        """Foreground indices of the class names of image ``name``; drops
        the classes that ``METAINFO`` knows but ``metainfo['classes']``
        leaves out."""
        index = {c: i for i, c in enumerate(self.fg_classes)}
        known = set(self.METAINFO.get('classes', ()))
        indices = []
        for cls_name in names:
            if cls_name in index:
                indices.append(index[cls_name])
            elif cls_name not in known:
                raise InputError(
                    f'{source}: image {name} has unknown class {cls_name!r} '
                    f'(the classes: {", ".join(self.fg_classes)})')
        return indices

    def _labels_from_xml(self, name: str) -> np.ndarray:
        xml_path = fileio.join_path(self.xml_dir, name + '.xml')
        if not self._exists(xml_path):
            raise MissingInputError(f'annotation {xml_path} not found')
        try:
            root = ET.fromstring(
                fileio.get_text(xml_path, backend_args=self.backend_args))
        except ET.ParseError as e:
            raise InputError(f'{xml_path}: not a valid XML file ({e})') \
                from None
        names = [(obj.findtext('name') or '').strip()
                 for obj in root.iter('object')]
        return self._multi_hot(
            self._class_indices(names, xml_path, name), xml_path, name)

    def _labels_from_mask(self, name: str) -> np.ndarray:
        seg_map_path = fileio.join_path(
            self.data_prefix.get('seg_map_path') or '',
            name + self.seg_map_suffix)
        if not self._exists(seg_map_path):
            raise MissingInputError(f'mask {seg_map_path} not found')
        try:
            mask = mmcv.imfrombytes(
                fileio.get(seg_map_path, backend_args=self.backend_args),
                flag='unchanged',
                backend='pillow')
        except Exception as e:  # any decoder error: one line
            raise InputError(f'cannot decode mask {seg_map_path} '
                             f'({one_line(e)})') from None
        if mask.ndim != 2:
            raise InputError(f'{seg_map_path} is not a single-channel label '
                             f'PNG (shape {mask.shape})')
        values = np.unique(mask)
        values = values[(values != 0) & (values != self.ignore_index)]
        if self.label_map is not None:
            values = np.array([self.label_map.get(int(v), v) for v in values])
            values = values[(values != 0) & (values != self.ignore_index)]
        bad = values[values > self.num_fg_classes]
        if bad.size:
            raise InputError(f'{seg_map_path}: pixel values {bad.tolist()} '
                             f'are not classes 1..{self.num_fg_classes}')
        return self._multi_hot(values.astype(int) - 1, seg_map_path, name)

    def _load_labels_file(self) -> Dict[str, LabelEntry]:
        """Read ``labels_file`` (:func:`.label_files.read_labels_file`:
        nothing in it runs)."""
        path = self.labels_file
        if not self._exists(path):
            raise MissingInputError(f'labels_file {path} not found')
        return read_labels_file(
            fileio.get(path, backend_args=self.backend_args), path)

    def _labels_from_table(self, table: Dict[str, LabelEntry],
                           name: str) -> np.ndarray:
        path = self.labels_file
        if name not in table:
            raise InputError(f'{path}: no labels for image {name}')
        entry = table[name]
        if isinstance(entry, np.ndarray):
            if entry.shape != (self.num_fg_classes, ):
                raise InputError(
                    f'{path}: labels of {name} have shape {entry.shape}, '
                    f'expected ({self.num_fg_classes},)')
            return self._multi_hot(np.flatnonzero(entry), path, name)
        names = [c for c in entry if isinstance(c, str)]
        indices = [c for c in entry if not isinstance(c, str)]
        bad = [i for i in indices if not 0 <= i < self.num_fg_classes]
        if bad:
            raise InputError(f'{path}: labels of {name} hold indices {bad} '
                             f'outside 0..{self.num_fg_classes - 1}')
        return self._multi_hot(
            indices + self._class_indices(names, path, name), path, name)


@DATASETS.register_module()
class VOCImageLabelDataset(ImageLabelDataset):
    """PASCAL VOC 2012 with image-level labels: :class:`ImageLabelDataset`
    with VOC's 21 labels (mmseg's ``PascalVOCDataset.METAINFO``) unless
    ``metainfo`` names a subset."""
    METAINFO = PascalVOCDataset.METAINFO
