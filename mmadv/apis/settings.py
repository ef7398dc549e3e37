"""The settings of the WSSS pipeline, each defined once.

Every setting is a field of :class:`PipelineSettings` (or, for a
refinement of the maps, of :class:`RandomWalkSettings`, PSA's, or
:class:`IRNSettings`, IRN's) with its type, its
default, a docstring line (``doc``), where the default comes from
(``source``: the paper's code, or PSA's, whose refinement the paper uses;
empty for mmadv's own choice) and the paper's value where it differs from
the default (``paper``, None otherwise). A stage-1 config sets
them in its ``wsss_pipeline`` dict; ``--pipeline-options`` (or the
``pipeline_options`` of :func:`mmadv.apis.run_pipeline`) overrides them;
the tools take their argparse defaults from here
(:meth:`PipelineSettings.default`). :meth:`PipelineSettings.from_sources`
checks every value before any work starts.
"""
import argparse
import os
import os.path as osp
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import (Any, Callable, ClassVar, Dict, List, Optional, Sequence,
                    Tuple, Union)

from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.affinity_labels import ALPHA
from ..pseudo_labels.boundary_walk import RADIUS
from ..pseudo_labels.crf import SCALE_FACTOR, DenseCRF, LabelCRF
from ..pseudo_labels.image_size import DEFAULT_MAX_PIXELS, MAX_PIXELS
from ..pseudo_labels.labeling import check_uncertain
from ..pseudo_labels.map_folders import boundary_walk_maps, random_walk_maps
from ..pseudo_labels.map_inference import SCALE, check_scales
from ..pseudo_labels.random_walk import BETA, BG_ALPHA, LOGT
from ..utils.domain import UNIT, Domain
from ..utils.errors import ConfigError, MissingInputError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# processes of a step: at least one, and not so many that the machine
# thrashes
WORKERS = Domain(1, 256, integer=True)


def setting(default: Any = MISSING,
            doc: str = '',
            source: str = '',
            paper: Any = None,
            factory: Any = MISSING,
            must: Optional[str] = None,
            domain: Optional[Domain] = None) -> Any:
    """A settings field (see the module docstring); ``must`` says what a
    value must be where the type and domain do not, for error messages;
    ``domain`` the numbers it may be (each item's, for a tuple), checked
    when the settings are made."""
    return field(
        default=default,
        default_factory=factory,
        metadata=dict(doc=doc, source=source, paper=paper, must=must,
                      domain=domain))


def resolve_config(path: str, name: str) -> str:
    """``path`` relative to the current directory, else to the repository,
    as an absolute path; a :class:`MissingInputError` naming setting
    ``name`` when neither exists."""
    if osp.isfile(path):
        return osp.abspath(path)
    in_repo = osp.join(REPO, path)
    if not osp.isfile(in_repo):
        raise MissingInputError(f'{name} {path} not found (tried the '
                                f'current directory and {REPO})')
    return in_repo


def threshold_labeler(bg_threshold: float,
                      uncertain: Optional[Sequence[float]],
                      crf: bool) -> dict:
    """The config of the pseudo-labels' labeler: the settings ``uncertain``
    and ``crf`` (PSA's CRF) at the chosen ``bg_threshold``."""
    return dict(
        type='ThresholdLabeler',
        bg_threshold=bg_threshold,
        uncertain=uncertain,
        crf=dict() if crf else None)


def _default_workers() -> int:
    return min(8, os.cpu_count() or 1)


def _describe(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return ' or '.join(_describe(a) for a in args)
    if origin is tuple:
        return f'a list of {len(args)} numbers' if args[-1] is not ... \
            else 'a list of numbers'
    return {type(None): 'None', str: 'a string', bool: 'True or False',
            int: 'an integer', float: 'a number', dict: 'a dict'}.get(
                origin or hint, getattr(hint, '__name__', str(hint)))


def _option(name: str, bool_default: Optional[bool] = None) -> str:
    """The command-line option of setting ``name``; a boolean's turns its
    default ``bool_default`` around."""
    dashed = name.replace('_', '-')
    return f'--no-{dashed}' if bool_default else f'--{dashed}'


def _tuple_items(hint) -> Optional[type]:
    """The item type of ``Tuple[<int or float>, ...]``, else None."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and \
            args[1] is ... and args[0] in (int, float):
        return args[0]
    return None


def _has_tuple(hint) -> bool:
    """Whether ``hint`` is a tuple type, or a union with one."""
    return typing.get_origin(hint) is tuple or any(
        typing.get_origin(a) is tuple for a in typing.get_args(hint))


def _conform(value: Any, hint) -> Any:
    """``value`` as type ``hint`` (lists as tuples; an int is accepted, and
    kept, as a float); ``TypeError`` when it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        for option in args:
            try:
                return _conform(value, option)
            except TypeError:
                pass
        raise TypeError
    if hint is type(None):
        if value is None:
            return None
        raise TypeError
    if isinstance(hint, type) and issubclass(hint, _Settings):
        if isinstance(value, (str, dict)):
            return value  # resolved by from_value
        raise TypeError
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or (args[-1] is not ... and
                                                    len(value) != len(args)):
            raise TypeError
        return tuple(_conform(v, args[0]) for v in value)
    if hint is float and isinstance(value, (int, float)) and \
            not isinstance(value, bool):
        return value
    if hint is int and isinstance(value, bool):
        raise TypeError
    if isinstance(value, origin or hint):
        return value
    raise TypeError


class _Settings:
    """Construction from dicts with every key and value checked: types
    by :meth:`conformed`, domains and the rules between settings when an
    object is made (:meth:`_check` of a subclass)."""

    key = ''  # the prefix of its settings' names in messages

    def __post_init__(self) -> None:
        for f in fields(self):
            name = f'{self.key}.{f.name}' if self.key else f.name
            self.check_domain(f.name, getattr(self, f.name),
                              f'setting {name}')
        self._check()

    @classmethod
    def check_domain(cls, name: str, value: Any, label: str) -> None:
        """Refuse a ``value`` of setting ``name`` outside its domain (each
        item of a list), in a :class:`ConfigError` naming it ``label``."""
        domain = cls._field(name).metadata['domain']
        if domain is None or value is None:
            return
        if isinstance(value, (list, tuple)):
            domain.check_each(value, label)
        else:
            domain.check(value, label)

    def _check(self) -> None:
        """Refuse values that the domains allow but the rules between
        settings do not."""

    @classmethod
    def conformed(cls, values: dict, source: str) -> dict:
        """``values`` checked against the fields, lists as tuples (nested
        settings are left as they are).

        Raises:
            ConfigError: An unknown key or a value of the wrong type, named
                with ``source``.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f'{source}: unknown settings {unknown} '
                              f'(known: {sorted(known)})')
        hints = typing.get_type_hints(cls)
        conformed = {}
        for name, value in values.items():
            try:
                conformed[name] = _conform(value, hints[name])
                cls.check_domain(name, value, f'{source}: setting {name}')
            except TypeError:
                meta = known[name].metadata
                must = meta['must'] or _describe(hints[name])
                if meta['domain'] is not None:
                    must = f'{must}, each {meta["domain"]}' if _has_tuple(
                        hints[name]) else str(meta['domain'])
                raise ConfigError(f'{source}: setting {name} must be {must}, '
                                  f'got {value!r}') from None
        return conformed

    @classmethod
    def _field(cls, name: str):
        for f in fields(cls):
            if f.name == name:
                return f
        raise KeyError(f'{cls.__name__} has no setting {name}')

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of setting ``name`` (e.g. for argparse)."""
        f = cls._field(name)
        return f.default if f.default_factory is MISSING else \
            f.default_factory()

    @classmethod
    def doc(cls, name: str) -> str:
        """The docstring line of setting ``name``."""
        return cls._field(name).metadata['doc']

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser,
                      names: Sequence[str]) -> None:
        """Add an option for each setting of ``names`` (a number, string,
        boolean or tuple of numbers of any length) with its type, default
        and doc: ``--<name>`` (``_`` as ``-``) taking one value or, for a
        tuple, one or more; for a boolean ``--no-<name>`` when it defaults
        to True and ``--<name>`` when it defaults to False.
        :meth:`arguments` gives them back."""
        hints = typing.get_type_hints(cls)
        for name in names:
            hint, items = hints[name], _tuple_items(hints[name])
            if hint not in (int, float, str, bool) and items is None:
                raise TypeError(f'setting {name} ({_describe(hint)}) has no '
                                'command-line option')
            default = cls.default(name)
            doc = cls.doc(name).replace('%', '%%')  # argparse's format
            if hint is bool:
                parser.add_argument(
                    _option(name, default), dest=name,
                    action='store_false' if default else 'store_true',
                    help=f'turn off: {doc}' if default else
                    f'{doc} (default off)')
            elif items is not None:
                parser.add_argument(
                    _option(name), nargs='+', type=items,
                    default=list(default), help=f'{doc} (default '
                    f'{" ".join(map(str, default))})')
            else:
                parser.add_argument(
                    _option(name), type=hint, default=default,
                    help=f'{doc} (default %(default)s)')

    def arguments(self, names: Sequence[str]) -> List[Any]:
        """The options of :meth:`add_arguments` that give this object's
        values of ``names``."""
        options = []
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool):
                if value != self.default(name):
                    options.append(_option(name, self.default(name)))
            elif isinstance(value, tuple):
                options += [_option(name), *value]
            else:
                options += [_option(name), value]
        return options

    def to_dict(self) -> dict:
        """Plain values (tuples as lists), as the frozen JSON holds them."""

        def plain(value):
            if isinstance(value, _Settings):
                return value.to_dict()
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return value

        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


class _RefinementSettings(_Settings):
    """A refinement of the maps: labels from the training maps, a model
    trained on them and the maps it refines, a second row ``<config>
    <row>`` of the pipeline. A subclass names its outputs and says how
    its labels and maps are made."""

    key = ''  # its pipeline setting
    row = ''  # its row's suffix
    labels = ''  # <labels>_<train split>/: its training labels
    model = ''  # its model's name and folder; configs/<model>.py
    network = ''  # its model's class, as figures name it
    tag = ''  # maps<tag>_<split>/ and the rest of its row's outputs
    tool = ''  # tools/<tool>: its maps in torchrun processes
    # the settings of its refined maps: the keyword arguments of
    # write_maps(model, map_dir, split, out_dir, ..., num_workers) and the
    # options of its tool
    walk: ClassVar[Tuple[str, ...]] = ()
    write_maps: ClassVar[Callable[..., Dict[str, int]]]

    def labeler(self) -> dict:
        """The labeler config of its training labels."""
        raise NotImplementedError

    def refine(self, model, map_dir: str, split: str, out_dir: str,
               workers: int, max_pixels: int) -> Dict[str, int]:
        """Write the refined maps of ``map_dir`` by the trained ``model``
        (:func:`~mmadv.apis.init_model`) to ``out_dir``."""
        return self.write_maps(
            model, map_dir, split, out_dir, num_workers=workers,
            max_pixels=max_pixels,
            **{name: getattr(self, name) for name in self.walk})

    def tool_args(self) -> list:
        """The arguments of ``tool`` after the config, checkpoint, maps,
        split and output folder that give these settings."""
        return self.arguments(self.walk)

    def _label_crf(self) -> Optional[dict]:
        """The CRF config of its labeler (``crf``, ``crf_scale``)."""
        return dict(scale_factor=self.crf_scale) if self.crf else None

    @classmethod
    def from_value(cls, value: Union[str, dict]) -> '_RefinementSettings':
        """From the model config's path or a dict of settings with
        ``config``; the config is looked up (:func:`resolve_config`)."""
        values = dict(config=value) if isinstance(value, str) else dict(
            value)
        known = {f.name for f in fields(cls)}
        if set(values) - known or not values.get('config'):
            raise ConfigError(f'{cls.key} needs a config and knows '
                              f'{sorted(known)}, got {values}')
        values['config'] = resolve_config(values['config'],
                                          f'{cls.key}.config')
        return cls(**cls.conformed(values, cls.key))


@dataclass(frozen=True)
class RandomWalkSettings(_RefinementSettings):
    """PSA's refinement (affinity labels, AffinityNet, random walk) of the
    maps, a second row ``<config> + random walk`` of the pipeline."""

    key = 'random_walk'
    row = ' + random walk'
    labels = 'affinity_labels'
    model = 'affinity'
    network = 'AffinityNet'
    tag = '_rw'
    tool = 'infer_random_walk.py'
    walk = ('bg_alpha', 'beta', 'logt')
    write_maps = staticmethod(random_walk_maps)

    config: str = setting(
        doc='the AffinityNet config (relative to the current directory or '
        'the repository)')
    affinity_alphas: Tuple[float, float] = setting(
        (4, 32),
        'background exponents of the confident foreground and background '
        'of the affinity labels', 'PSA\'s infer_cls.py', domain=ALPHA)
    crf: bool = setting(True, 'dense CRF on the affinity labels',
                        'PSA\'s infer_cls.py')
    crf_scale: float = setting(
        DenseCRF.scale_factor,
        'divides the CRF\'s spatial deviations (for smaller images)',
        'PSA\'s imutils.crf_inference', domain=SCALE_FACTOR)
    bg_alpha: float = setting(
        16, 'background exponent of the walk\'s scores (1 - max)^bg_alpha',
        'PSA\'s infer_aff.py', domain=BG_ALPHA)
    beta: float = setting(8, 'affinity exponent of the transition matrix',
                          'PSA\'s infer_aff.py', domain=BETA)
    logt: int = setting(
        8, 'log2 of the number of random-walk steps', 'PSA\'s infer_aff.py',
        domain=LOGT)
    cfg_options: Dict[str, Any] = setting(
        doc='overrides of the AffinityNet config', factory=dict)

    def _check(self) -> None:
        if self.affinity_alphas[0] > self.affinity_alphas[1]:
            raise ConfigError('random_walk.affinity_alphas must be (low, '
                              f'high), got {list(self.affinity_alphas)}')

    def labeler(self) -> dict:
        low_alpha, high_alpha = self.affinity_alphas
        return dict(type='AffinityLabeler', low_alpha=low_alpha,
                    high_alpha=high_alpha,
                    crf=self._label_crf())


@dataclass(frozen=True)
class IRNSettings(_RefinementSettings):
    """IRN's refinement (Ahn, Cho and Kwak, CVPR 2019: relation labels,
    IRNet's boundary branch, the random walk on its boundary affinities) of
    the maps, a row ``<config> + IRN`` of the pipeline."""

    key = 'irn'
    row = ' + IRN'
    labels = 'relation_labels'
    model = 'irn'
    network = 'IRNet'
    tag = '_irn'
    tool = 'infer_irn.py'
    walk = ('radius', 'beta', 'logt', 'flip')
    write_maps = staticmethod(boundary_walk_maps)

    config: str = setting(
        doc='the IRNet config (relative to the current directory or the '
        'repository)')
    conf_thres: Tuple[float, float] = setting(
        (0.30, 0.05),
        'constant background scores of the confident foreground and '
        'background of the relation labels (conf_fg_thres, conf_bg_thres)',
        'IRN\'s run_sample.py', domain=UNIT)
    crf: bool = setting(True, 'IRN\'s label CRF on the relation labels',
                        'IRN\'s cam_to_ir_label.py')
    crf_scale: float = setting(
        LabelCRF.scale_factor,
        'divides the label CRF\'s spatial deviations (for smaller images)',
        'IRN\'s imutils.crf_inference_label', domain=SCALE_FACTOR)
    radius: int = setting(
        5, 'pair radius of the walk, in cells of the boundary map',
        'IRN\'s make_sem_seg_labels.py', domain=RADIUS)
    beta: float = setting(10, 'affinity exponent of the transition matrix',
                          'IRN\'s run_sample.py', domain=BETA)
    logt: int = setting(
        8, 'log2 of the number of random-walk steps (exp_times)',
        'IRN\'s run_sample.py', domain=LOGT)
    flip: bool = setting(
        True, 'boundary logits averaged with the flipped image\'s',
        'IRN\'s resnet50_irn.EdgeDisplacement')
    cfg_options: Dict[str, Any] = setting(
        doc='overrides of the IRNet config', factory=dict)

    def _check(self) -> None:
        if self.conf_thres[1] > self.conf_thres[0]:
            raise ConfigError('irn.conf_thres must be (fg, bg) with bg <= '
                              f'fg, got {list(self.conf_thres)}')

    def labeler(self) -> dict:
        conf_fg_thres, conf_bg_thres = self.conf_thres
        return dict(type='RelationLabeler', conf_fg_thres=conf_fg_thres,
                    conf_bg_thres=conf_bg_thres,
                    crf=self._label_crf())


# the refinements' settings by their pipeline setting
REFINEMENTS = {kind.key: kind for kind in (RandomWalkSettings, IRNSettings)}


@dataclass(frozen=True)
class PipelineSettings(_Settings):
    """What the pipeline does after stage 1, for one stage-1 config."""

    seg_config: str = setting(
        'configs/deeplabv3plus_r101-d8_voc12aug-pseudo.py',
        'the segmentation config trained on the pseudo-labels (relative to '
        'the current directory or the repository)')
    train_split: str = setting(
        'train_aug', 'image list ImageSets/Segmentation/<split>.txt of the '
        'pseudo-labels', 'the paper\'s')
    eval_split: str = setting(
        'val', 'image list the maps and the segmentation are scored on',
        'the paper\'s')
    train_gt_dir: Optional[str] = setting(
        'SegmentationClassAug',
        'masks of the training split (under the data root): those the '
        'threshold rule reads, and when it holds all, the training split\'s '
        'scores; None: no training masks')
    eval_gt_dir: str = setting(
        'SegmentationClass',
        'masks of the evaluation split (under the data root), to score')
    scales: Tuple[float, ...] = setting(
        (0.5, 1.0, 1.5, 2.0),
        'map inference resize factors, fused by summation',
        'PSA\'s infer_cls.py', domain=SCALE)
    flip: bool = setting(True, 'add the horizontal flip of every scale',
                         'PSA\'s infer_cls.py')
    max_pixels: int = setting(
        DEFAULT_MAX_PIXELS,
        'largest image (H x W pixels) that map inference, the walks and the '
        'CRF take; a larger one is refused before the work starts',
        domain=MAX_PIXELS)
    thresholds: Tuple[float, ...] = setting(
        tuple(round(0.05 * i, 2) for i in range(1, 13)),
        'background thresholds the sweeping threshold rules try (by '
        'default the best on every training mask makes the pseudo-labels)',
        domain=UNIT)
    threshold_rule: Dict[str, Any] = setting(
        doc='how the background threshold is chosen on the training split '
        '(mmadv.apis.threshold_rules): MaskSweepThreshold (the sweep\'s '
        'best on every training mask, an upper bound), FixedThreshold, '
        'SubsetSweepThreshold (N masks) or OtsuThreshold (label-free)',
        factory=lambda: dict(type='MaskSweepThreshold'))
    crf: bool = setting(False, 'dense CRF on the pseudo-labels')
    uncertain: Optional[Tuple[float, float]] = setting(
        None, '(low, high): pixels whose highest map is in [low, high) are '
        'ignored (255) in the pseudo-labels', domain=UNIT)
    workers: int = setting(
        doc='processes of the label PNGs and, on the CPU, of the maps (they '
        'do not change them)',
        factory=_default_workers, domain=WORKERS)
    seg_cfg_options: Dict[str, Any] = setting(
        doc='overrides of the segmentation config', factory=dict)
    random_walk: Optional[RandomWalkSettings] = setting(
        None, 'PSA\'s refinement, a row <config> + random walk: None, the '
        'AffinityNet config or a dict of RandomWalkSettings',
        must='None, the AffinityNet config or a dict of RandomWalkSettings')
    irn: Optional[IRNSettings] = setting(
        None, 'IRN\'s refinement, a row <config> + IRN: None, the IRNet '
        'config or a dict of IRNSettings',
        must='None, the IRNet config or a dict of IRNSettings')

    def _check(self) -> None:
        if self.train_split == self.eval_split:
            raise ConfigError('train_split and eval_split are both '
                              f'{self.train_split!r}')
        check_scales(self.scales)
        if not self.thresholds:
            raise ConfigError('thresholds must not be empty')
        build_threshold_rule(self.threshold_rule)
        if self.uncertain is not None:
            check_uncertain(self.uncertain)

    @classmethod
    def from_sources(cls, *sources: Tuple[str, Optional[dict]]
                     ) -> 'PipelineSettings':
        """The defaults updated by each ``(name, values)`` in turn (e.g. a
        config's ``wsss_pipeline``, then ``--pipeline-options``), every key
        and value checked, ``seg_config`` and ``random_walk`` resolved. A
        key ``random_walk.<name>`` sets one of the random walk's settings
        (a ``random_walk`` given as its config's path becomes
        ``dict(config=<path>)``), and ``threshold_rule.<name>`` one entry
        of the rule's config (``threshold_rule.type`` a new rule, with
        its own defaults).

        Raises:
            ConfigError: A bad key or value (named with its source).
            MissingInputError: A config not found.
        """
        merged = {}
        for name, values in sources:
            values = dict(values or {})
            nested = {
                prefix: {
                    key.split('.', 1)[1]: values.pop(key)
                    for key in list(values) if key.startswith(prefix + '.')
                }
                for prefix in (*REFINEMENTS, 'threshold_rule')
            }
            merged.update(cls.conformed(values, name))
            for key, kind in REFINEMENTS.items():
                given = values.get(key)
                for field_name, value in dict(
                        given if isinstance(given, dict) else {},
                        **nested[key]).items():
                    if field_name in {f.name for f in fields(kind)}:
                        kind.check_domain(field_name, value,
                                          f'{name}: setting {key}.'
                                          f'{field_name}')
                if nested[key]:
                    refine = merged.get(key)
                    refine = dict(config=refine) if isinstance(
                        refine, str) else dict(refine or {})
                    merged[key] = dict(refine, **nested[key])
            rule = nested['threshold_rule']
            if rule:  # a new type starts from its own defaults
                merged['threshold_rule'] = dict(
                    {} if 'type' in rule else merged.get(
                        'threshold_rule', cls.default('threshold_rule')),
                    **rule)
        for key, kind in REFINEMENTS.items():
            value = merged.pop(key, None)
            merged[key] = kind.from_value(value) if value else None
        settings = cls(**merged)
        return settings.replace(
            seg_config=resolve_config(settings.seg_config, 'seg_config'))

    def replace(self, **changes) -> 'PipelineSettings':
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return type(self)(**values)

    def refinements(self) -> list:
        """The refinements set, AffinityNet's first."""
        return [getattr(self, key) for key in REFINEMENTS
                if getattr(self, key) is not None]

    def frozen(self) -> dict:
        """The settings that decide the outputs (all but ``workers`` and
        ``max_pixels``, which do not change them), as the run's
        ``configs/pipeline.json`` records them."""
        values = self.to_dict()
        del values['workers'], values['max_pixels']
        return values
