"""A refinement of the maps, the pipeline's plugin: each method is one
module that registers a :class:`Refinement` in :data:`REFINEMENTS`.

A stage-1 config asks for one by its key in ``wsss_pipeline`` (e.g.
``random_walk=dict(config=...)``, ``dense_crf=dict()``; ``None`` for
none); the pipeline then adds a row ``<config><row>``: the refined maps of
both splits (:meth:`Refinement.write_maps`), their threshold and scores,
pseudo-labels and a segmentation network trained on them. A refinement
that trains a model (``model`` set: PSA's AffinityNet, IRN's IRNet) has
its labels made from the training maps first (:meth:`Refinement.labeler`)
and its model trained on them (``config``); one without (a dense CRF)
refines the maps alone.

A plugin of its own, in one file::

    from dataclasses import dataclass
    from mmadv.refinements import REFINEMENTS, Refinement
    from mmadv.utils.settings import setting

    @REFINEMENTS.register_module()
    @dataclass(frozen=True)
    class Sharpen(Refinement):
        key = 'sharpen'
        row = ' + sharpen'
        tag = '_sharp'
        power: float = setting(2., 'maps raised to this power')

        def write_maps(self, model, map_dir, split, out_dir, images,
                       workers, max_pixels):
            ...  # a map folder in the format of mmadv.datasets.map_io

and ``wsss_pipeline = dict(sharpen=dict(power=3))`` with the module
imported (``custom_imports = dict(imports=['my_sharpen'])``).
"""
from dataclasses import fields
from typing import (Any, Callable, ClassVar, Dict, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch.nn as nn
from mmengine.registry import Registry

from ..engine.model_loading import init_model
from ..utils.config_path import resolve_config
from ..utils.errors import ConfigError
from ..utils.settings import Settings

REFINEMENTS = Registry('refinement', locations=['mmadv.refinements'])


class ImageFolder(NamedTuple):
    """Where a split's images are: ``<img_dir>/<name><img_suffix>``."""

    img_dir: str
    img_suffix: str


class Refinement(Settings):
    """The settings of a refinement (a frozen dataclass of
    :func:`~mmadv.utils.settings.setting` fields) and what it does.

    A subclass sets:

    - ``key``: its setting in ``wsss_pipeline``, and its name in
      :data:`REFINEMENTS`;
    - ``row``: its row's suffix, e.g. ``' + random walk'``;
    - ``tag``: its outputs' suffix (``maps<tag>_<split>/``,
      ``pseudo_labels<tag>_<train split>/``, ``seg<tag>/``);
    - with a model: ``model`` (its folder and ``configs/<model>.py``),
      ``network`` (its class, as tables and figures name it), ``labels``
      (its training labels, ``<labels>_<train split>/``), a ``config``
      field (its config, looked up by
      :func:`~mmadv.utils.config_path.resolve_config`) and
      :meth:`labeler`.
    """

    key: ClassVar[str] = ''
    row: ClassVar[str] = ''
    tag: ClassVar[str] = ''
    model: ClassVar[str] = ''
    network: ClassVar[str] = ''
    labels: ClassVar[str] = ''

    @property
    def trains_model(self) -> bool:
        """Whether it trains a model on labels of the training maps."""
        return bool(self.model)

    def threshold_rule(self) -> Optional[dict]:
        """The rule that chooses its row's background threshold
        (:func:`~mmadv.evaluation.threshold_rules.build_threshold_rule`);
        None: the pipeline's ``threshold_rule``."""
        return None

    def labeler(self) -> dict:
        """The labeler config of its model's training labels
        (:func:`~mmadv.pseudo_labels.build_labeler`)."""
        raise NotImplementedError(f'{type(self).__name__} trains no model')

    def map_settings(self) -> dict:
        """The settings that make its maps what they are, as the maps'
        step records them (its model's are in the model's record)."""
        return {key: value for key, value in self.to_dict().items()
                if key != 'config'}

    def write_maps(self, model: Optional[nn.Module], map_dir: str,
                   split: str, out_dir: str, images: ImageFolder,
                   workers: int, max_pixels: int) -> Dict[str, int]:
        """Write the refined maps of the map folder ``map_dir`` (of
        ``split``) into ``out_dir``, in the same format
        (:mod:`mmadv.datasets.map_io`), resumable and atomic.

        Args:
            model (nn.Module, optional): Its trained model
                (:func:`~mmadv.engine.init_model`), None without one.
            map_dir (str): The maps to refine.
            split (str): Their split.
            out_dir (str): The refined map folder.
            images (ImageFolder): The split's images.
            workers (int): Processes.
            max_pixels (int): The largest image taken (the pipeline's
                setting).

        Returns:
            dict: ``total``, ``skipped`` and ``written`` images.
        """
        raise NotImplementedError

    @classmethod
    def from_value(cls, value: Union[bool, str, dict],
                   source: str) -> 'Refinement':
        """From ``wsss_pipeline.<key>``: a dict of its settings, ``True``
        (the defaults), or for one with a model the path of its config;
        the config is looked up.

        Raises:
            ConfigError: Another value, an unknown key, a value of the
                wrong type or domain, no config for a model.
            MissingInputError: The config is not found.
        """
        if value is True:
            value = {}
        elif isinstance(value, str) and 'config' in _names(cls):
            value = dict(config=value)
        if not isinstance(value, dict):
            raise ConfigError(f'{source}: {cls.key} must be None, True, a '
                              'dict of its settings' + (
                                  ' or its config\'s path' if
                                  'config' in _names(cls) else '') +
                              f', got {value!r}')
        values = cls.conformed(dict(value), source)
        if 'config' in _names(cls):
            if not values.get('config'):
                raise ConfigError(f'{source}: {cls.key} needs a config (the '
                                  f'{cls.network} config), got {value}')
            values['config'] = resolve_config(values['config'],
                                              f'{cls.key}.config')
        return cls(**values)


class ModelRefinement(Refinement):
    """A refinement whose maps come from a model trained on labels of the
    training maps, written by ``map_writer(model, map_dir, split,
    out_dir, **walk settings, num_workers=..., max_pixels=...)`` (e.g.
    :func:`~mmadv.pseudo_labels.random_walk_maps`) with the settings named
    in ``walk``, which are also the options of its map tool
    (:mod:`mmadv.apis.refinement_tool`)."""

    walk: ClassVar[Tuple[str, ...]] = ()
    map_writer: ClassVar[Callable[..., Dict[str, int]]]

    def write_maps(self, model, map_dir, split, out_dir, images, workers,
                   max_pixels):
        return self.map_writer(
            model, map_dir, split, out_dir, num_workers=workers,
            max_pixels=max_pixels,
            **{name: getattr(self, name) for name in self.walk})

    def map_settings(self) -> dict:
        return {name: getattr(self, name) for name in self.walk}

    def _label_crf(self) -> Optional[dict]:
        """The CRF config of its labeler (its settings ``crf`` and
        ``crf_scale``)."""
        return dict(scale_factor=self.crf_scale) if self.crf else None


def _names(cls) -> set:
    return {f.name for f in fields(cls)}


def refine_from_files(key: str, settings: dict, config: Optional[str],
                      checkpoint: Optional[str], map_dir: str, split: str,
                      out_dir: str, images: Sequence[str], workers: int,
                      max_pixels: int) -> Dict[str, int]:
    """:meth:`Refinement.write_maps` of the refinement registered as
    ``key`` with ``settings`` (its :meth:`~Refinement.to_dict`), its model
    from the config file ``config`` and ``checkpoint`` (none without);
    arguments JSON holds, for
    :class:`~mmadv.pipeline.launcher.Launcher`."""
    kind = REFINEMENTS.get(key)
    refinement = kind(**kind.conformed(settings, key))
    model = None if config is None else init_model(config, checkpoint)
    return refinement.write_maps(model, map_dir, split, out_dir,
                                 ImageFolder(*images), workers, max_pixels)


def build_refinement(key: str, value: Any, source: str) -> Refinement:
    """The refinement registered as ``key`` with the settings ``value``
    (:meth:`Refinement.from_value`)."""
    kind = REFINEMENTS.get(key)
    if kind is None:
        raise ConfigError(f'{source}: no refinement {key!r} (registered: '
                          f'{sorted(REFINEMENTS.module_dict)})')
    return kind.from_value(value, source)
