"""The classes of a data set config, read without loading the data set.

A data set names its classes once: its class's ``METAINFO``, updated by
the config's ``metainfo=dict(classes=..., palette=...)`` as mmengine's
``BaseDataset`` merges them. Label ``l`` of a mask, a map folder or a
pseudo-label PNG is ``classes[l]``, background first; 255 (the data set's
``ignore_index``) is ignored.
"""
import copy
from typing import Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..structures.labels import IGNORE_INDEX
from ..utils.errors import ConfigError
from .layout import LOADERS, innermost_dataset


def dataset_metainfo(dataset: dict, source: str = 'the config') -> dict:
    """``classes``, ``palette`` and ``ignore_index`` of a dataset config.

    The dataset inside any wrappers (``RepeatDataset``-style), its class
    from mmseg's ``DATASETS`` and ``metainfo`` merged as the data set
    itself merges them (``BaseDataset._load_metainfo``); no file is read.
    A data set without a palette gets the one mmseg's ``BaseSegDataset``
    makes (``_update_palette``: random colours of seed 42).

    Args:
        dataset (dict): A dataset config (with ``type``).
        source (str): Where it is, for the error. Defaults to
            ``'the config'``.

    Returns:
        dict: ``classes`` (tuple[str], background first), ``palette``
        (list of ``[r, g, b]``, one per class) and ``ignore_index`` (int).

    Raises:
        ConfigError: The type is not registered, the data set names no
            classes or fewer than two (background and one class), or its
            ``ignore_index`` is not 255 (every label PNG mmadv writes and
            reads ignores 255).
    """
    dataset = innermost_dataset(dataset)
    cls = DATASETS.get(dataset.get('type'))
    if cls is None:
        raise ConfigError(f'{source}: dataset type {dataset.get("type")!r} '
                          'is not registered in mmseg.registry.DATASETS')
    meta = cls._load_metainfo(copy.deepcopy(dataset.get('metainfo')))
    classes = meta.get('classes')
    if not classes or len(classes) < 2:
        raise ConfigError(
            f'{source}: {cls.__name__} names {len(classes or ())} classes; '
            "give metainfo=dict(classes=('background', ...)), background "
            'first')
    palette = meta.get('palette') or []
    if len(palette) != len(classes) and issubclass(cls, BaseSegDataset):
        bare = cls.__new__(cls)  # mmseg's rule, without reading the data
        bare._metainfo = meta
        bare.label_map = cls.get_label_map(classes)
        palette = bare._update_palette()
    ignore_index = dataset.get('ignore_index', IGNORE_INDEX)
    if ignore_index != IGNORE_INDEX:
        raise ConfigError(f'{source}: ignore_index {ignore_index}: mmadv\'s '
                          f'label PNGs ignore {IGNORE_INDEX}; relabel the '
                          'masks')
    return dict(classes=tuple(classes),
                palette=[list(c) for c in palette],
                ignore_index=ignore_index)


def config_dataset(cfg, loaders: Sequence[str] = LOADERS) -> Optional[dict]:
    """The dataset config of the first of ``loaders`` that ``cfg`` has
    (training first), or None."""
    for loader in loaders:
        if cfg.get(loader) and cfg[loader].get('dataset'):
            return cfg[loader]['dataset']
    return None
