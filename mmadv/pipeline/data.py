"""The data a config's run reads, checked before the first training: the
splits' lists (each image once), every image (there, within
``max_pixels``), the masks the run reads (single-channel, the data set's
labels only), the data set's classes.

Masks are optional: without ``train_gt_dir`` the threshold rule must read
none (a label-free rule); without ``eval_gt_dir`` (image labels only, the
case WSSS exists for) nothing is scored and the table says so.
"""
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from mmseg.registry import DATASETS

from ..datasets.file_checks import check_mask
from ..datasets.layout import (IMG_SUFFIX, missing_files, read_image_list,
                               split_file)
from ..datasets.metainfo import dataset_metainfo
from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.image_size import check_image_sizes
from ..refinements import ImageFolder
from ..structures.labels import IGNORE_INDEX
from ..utils.errors import ConfigError, InputError, MissingInputError
from .settings import PipelineSettings


@dataclass
class Data:
    """Where a config's data is, checked to hold every file the run reads.

    Attributes:
        root (str): The data root.
        images (ImageFolder): The images.
        train_gt (str, optional): The training masks (None: none).
        eval_gt (str, optional): The evaluation masks (None: none, nothing
            is scored).
        metainfo (dict): The data set's ``classes`` and ``palette``, for
            every stage.
        train_scored (bool): Every training image has a mask: the training
            split is scored.
        train_names (list[str]): The images of the training split.
        eval_names (list[str]): The images of the evaluation split.
    """

    root: str
    images: ImageFolder
    train_gt: Optional[str]
    eval_gt: Optional[str]
    metainfo: dict = field(default_factory=dict)
    train_scored: bool = False
    train_names: List[str] = field(default_factory=list)
    eval_names: List[str] = field(default_factory=list)

    @classmethod
    def checked(cls, data_root: str, dataset: dict,
                settings: PipelineSettings, source: str) -> 'Data':
        """The data of the stage-1 data set config ``dataset`` (of config
        ``source``) at ``data_root``, every file the run reads checked.

        Raises:
            MissingInputError: A folder, list, image or mask is missing.
            InputError: A list names an image twice or is empty, an image
                is too large, a mask is not one.
            ConfigError: The threshold rule reads masks that are not set,
                or the data set names a subset of its class's classes.
        """
        if not osp.isdir(data_root):
            raise MissingInputError(
                f'data root {data_root} not found (train_dataloader.dataset.'
                f'data_root of {source}, or data_root)')
        gt = {
            name: osp.join(data_root, getattr(settings, name))
            if getattr(settings, name) else None
            for name in ('train_gt_dir', 'eval_gt_dir')
        }
        data = cls(
            root=data_root,
            images=ImageFolder(
                osp.join(data_root, dataset.data_prefix['img_path']),
                dataset.get('img_suffix', IMG_SUFFIX)),
            train_gt=gt['train_gt_dir'],
            eval_gt=gt['eval_gt_dir'])
        meta = dataset_metainfo(dataset, f'{source}: train_dataloader')
        kind = DATASETS.get(dataset.type)
        if hasattr(kind, 'get_label_map') and \
                kind.get_label_map(meta['classes']) is not None:
            raise ConfigError(
                f'{source}: train_dataloader.dataset.metainfo names a subset '
                f'of {kind.__name__}\'s classes, but the masks and label '
                'PNGs of every stage hold the data set\'s own labels: use '
                'ImageLabelDataset with masks relabelled to the subset')
        data.metainfo = dict(classes=list(meta['classes']),
                             palette=meta['palette'])
        rule = build_threshold_rule(settings.threshold_rule)
        names = data.train_names = data._check_split(
            settings.train_split, data.train_gt, rule.mask_names,
            settings.max_pixels)
        data.train_scored = data.train_gt is not None and not missing_files(
            data.train_gt, names, '.png')
        if data.train_scored:  # every mask is read to score the split
            read = set(rule.mask_names(names))
            data._check_masks(data.train_gt,
                              [n for n in names if n not in read],
                              settings.train_split)
        data.eval_names = data._check_split(
            settings.eval_split, data.eval_gt,
            list if data.eval_gt else lambda names: [], settings.max_pixels)
        return data

    @property
    def scored(self) -> bool:
        """Whether the evaluation split has masks to score with."""
        return self.eval_gt is not None

    def options(self, loaders: Sequence[str]) -> dict:
        """The config options that give ``loaders`` this data: its root and
        classes (a segmentation or AffinityNet config serves the data set
        of the stage-1 config it follows)."""
        options = {}
        for loader in loaders:
            options[f'{loader}.dataset.data_root'] = self.root
            options[f'{loader}.dataset.metainfo'] = self.metainfo
        return options

    def _check_split(self, split: str, gt_dir: Optional[str],
                     masks_of: Callable[[List[str]], List[str]],
                     max_pixels: int) -> List[str]:
        """Every image of the split's list exists, within ``max_pixels``
        (from its header), and the masks of ``masks_of(names)``; returns
        the names."""
        path = osp.join(self.root, split_file(split))
        if not osp.isfile(path):
            raise MissingInputError(f'image list {path} of split {split!r} '
                                    'not found')
        names = read_image_list(path)
        if not names:
            raise InputError(f'image list {path} is empty')
        needed = [(self.images.img_dir, self.images.img_suffix, 'images',
                   names)]
        masks = masks_of(names)
        if masks:
            if gt_dir is None:
                raise ConfigError(f'the threshold rule reads masks of split '
                                  f'{split!r}: set train_gt_dir')
            needed.append((gt_dir, '.png', 'masks', masks))
        for folder, suffix, what, listed in needed:
            if not osp.isdir(folder):
                raise MissingInputError(f'{what} folder {folder} not found')
            missing = missing_files(folder, listed, suffix)
            if missing:
                raise MissingInputError(
                    f'{len(missing)} of the {len(listed)} {what} of {path} '
                    f'are not in {folder} (first: {missing[0]}{suffix})')
        check_image_sizes(
            (osp.join(self.images.img_dir, name + self.images.img_suffix)
             for name in names), max_pixels)
        if masks:
            self._check_masks(gt_dir, masks, split)
        return names

    def _check_masks(self, gt_dir: str, names: Sequence[str],
                     split: str) -> None:
        """Every mask of ``names`` in ``gt_dir`` decodes, is single-channel
        and holds the data set's labels only
        (:func:`~mmadv.datasets.file_checks.check_mask`), before any
        training."""
        classes = len(self.metainfo['classes'])
        with ThreadPoolExecutor(4) as pool:
            for problem in pool.map(
                    lambda name: check_mask(
                        osp.join(gt_dir, name + '.png'), classes,
                        IGNORE_INDEX), names):
                if problem:
                    raise InputError(f'{problem} (a mask of split {split!r} '
                                     'the pipeline reads)')
