"""The settings of a config that follow its data set, filled in or checked
before a model or a Runner is built.

A data set names its classes once (:func:`~mmadv.datasets.metainfo.
dataset_metainfo`: its class's ``METAINFO`` and the config's ``metainfo``);
every class count of the config follows from them:

- an mmseg decode head (``BaseDecodeHead``: ``decode_head``,
  ``auxiliary_head``) predicts every label, ``num_classes = len(classes)``
  (background included);
- a :class:`~mmadv.models.heads.CAMHead` scores the foreground classes,
  ``num_classes = len(classes) - 1``;
- ``CheckSegLabels`` in a dataloader's pipeline allows the labels
  ``0 .. len(classes) - 1`` and the data set's ``ignore_index``.

``None`` takes the data set's value; a number must equal it, so a config
written for another data set is refused in one line naming the key. The
data set is the training dataloader's (else the val or test one's).

The padding size follows the crop size in the same way: a data
preprocessor's ``size`` left ``None`` (with no ``size_divisor``) takes the
config's ``crop_size`` (mmseg's convention: ``data_preprocessor =
dict(size=crop_size)``), and the training crops (``RandomCrop``'s
``crop_size``, ``RandomResizedCrop``'s and ``Pad``'s ``size``) must equal
it (a ``crop_size`` changed in a derived config does not reach the crop its
base wrote), so a config family sets its crop size once. A training config
whose padding is left to neither is refused.
"""
from typing import Optional

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS, TRANSFORMS

from ..datasets.layout import LOADERS, innermost_dataset
from ..datasets.metainfo import config_dataset, dataset_metainfo
from ..datasets.transforms import CheckSegLabels, RandomResizedCrop
from ..models.heads import CAMHead
from ..utils.config_tree import config_dicts
from ..utils.errors import ConfigError

# the training transforms whose ``size`` is the crop size
CROPS = (RandomResizedCrop, TRANSFORMS.get('Pad'))


def _registered(registry, node: dict) -> Optional[type]:
    kind = node.get('type')
    return registry.get(kind) if isinstance(kind, str) else kind


def _fit(node: dict, field: str, value, key: str, source: str,
         what: str) -> None:
    """``node[field] = value`` when it is None; an error when it is set to
    another value."""
    if node.get(field) is None:
        node[field] = value
    elif (tuple(node[field]) if isinstance(node[field], list)
          else node[field]) != value:
        raise ConfigError(f'{source}: {key}.{field} is {node[field]!r}, but '
                          f'{what}; set it to {value!r} or None')


def fit_to_dataset(cfg: Config) -> Config:
    """Fill in (``None``) or check (a number) the class counts and the
    padding size of ``cfg`` from its data set, in place.

    Args:
        cfg (Config): A config with a ``model``.

    Returns:
        Config: ``cfg``.

    Raises:
        ConfigError: A count or size that does not fit the data set, a
            count left None without a data set, a data preprocessor with
            both ``size`` and ``size_divisor``, or a training config whose
            batches pad to no size.
    """
    source = cfg.filename or 'the config'
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = config_dataset(cfg)
    heads, checks = [], []  # (key, node, foreground only)
    for key, node in config_dicts(cfg.get('model'), 'model'):
        cls = _registered(MODELS, node)
        if isinstance(cls, type) and issubclass(cls,
                                                (BaseDecodeHead, CAMHead)):
            heads.append((key, node, issubclass(cls, CAMHead)))
    for loader in LOADERS:
        if cfg.get(loader) and cfg[loader].get('dataset'):
            pipeline = innermost_dataset(cfg[loader].dataset).get(
                'pipeline') or []
            checks += [(key, node) for key, node in config_dicts(
                pipeline, f'{loader}.dataset.pipeline')
                if _registered(TRANSFORMS, node) is CheckSegLabels]
    if dataset is None:
        unset = [key for key, node, _ in heads if node.get('num_classes')
                 is None] + [key for key, node in checks
                             if node.get('num_classes') is None]
        if unset:
            raise ConfigError(f'{source}: {unset[0]}.num_classes is None '
                              'and the config has no dataloader to take '
                              'the classes from: set it')
    elif heads or checks:
        meta = dataset_metainfo(dataset, source)
        classes = meta['classes']
        named = f'the data set has {len(classes)} classes ' \
            f'({", ".join(classes[:4])}{", ..." if len(classes) > 4 else ""})'
        for key, node, foreground in heads:
            if foreground:
                _fit(node, 'num_classes', len(classes) - 1, key, source,
                     f'{named}, {len(classes) - 1} foreground')
            else:
                _fit(node, 'num_classes', len(classes), key, source, named)
        for key, node in checks:
            _fit(node, 'num_classes', len(classes), key, source, named)
            _fit(node, 'ignore_index', meta['ignore_index'], key, source,
                 f'the data set ignores {meta["ignore_index"]}')
    crop_size = cfg.get('crop_size')
    if isinstance(crop_size, int):  # as mmseg's RandomCrop takes it
        crop_size = (crop_size, crop_size)
    training = bool(cfg.get('train_dataloader')
                    and cfg.train_dataloader.get('dataset'))
    for key, node in config_dicts(cfg.get('model'), 'model'):
        if not key.endswith('data_preprocessor'):
            continue
        if node.get('size') is not None and \
                node.get('size_divisor') is not None:
            raise ConfigError(
                f'{source}: {key} sets both size {node.size!r} and '
                f'size_divisor {node.size_divisor!r}; mmseg pads to one of '
                'them: set the other to None')
        if crop_size is not None and node.get('size_divisor') is None:
            _fit(node, 'size', tuple(crop_size), key, source,
                 f'crop_size is {tuple(crop_size)!r}')
        if training and node.get('size') is None and \
                node.get('size_divisor') is None:
            raise ConfigError(
                f'{source}: {key} pads the training batches to no size: set '
                'crop_size (or its size), or size_divisor=1 for images of '
                'one size')
    if crop_size is None or not training:
        return cfg
    crop_size = tuple(crop_size)
    pipeline = innermost_dataset(cfg.train_dataloader.dataset).get(
        'pipeline') or []
    for key, node in config_dicts(pipeline,
                                  'train_dataloader.dataset.pipeline'):
        field = 'crop_size' if 'crop_size' in node else 'size' if \
            _registered(TRANSFORMS, node) in CROPS else None
        if field is None:
            continue
        if isinstance(node.get(field), int):
            node[field] = (node[field], node[field])
        _fit(node, field, crop_size, key, source,
             f'crop_size is {crop_size!r}')
    return cfg
