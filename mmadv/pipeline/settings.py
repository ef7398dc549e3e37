"""The settings of the WSSS pipeline, each defined once
(:mod:`mmadv.utils.settings`: type, default, doc line, source, domain).

A stage-1 config sets them in its ``wsss_pipeline`` dict;
``--pipeline-options`` (or the ``pipeline_options`` of
:func:`mmadv.apis.run_pipeline`) overrides them; the tools take their
argparse defaults and options from here. A key of ``wsss_pipeline`` that
names a registered refinement (:data:`~mmadv.refinements.REFINEMENTS`:
``random_walk``, ``irn``, ``dense_crf``, a plugin's) asks for its row,
with its own settings. :meth:`PipelineSettings.from_sources` checks every
value before any work starts.
"""
import logging
import os
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Sequence, Tuple

from mmengine.logging import print_log

from ..datasets.layout import split_file
from ..engine.seg_protocols import SEG_PROTOCOLS, seg_protocol
from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.image_size import DEFAULT_MAX_PIXELS, MAX_PIXELS
from ..pseudo_labels.labeling import check_uncertain
from ..pseudo_labels.map_inference import SCALE, check_scales
from ..refinements import REFINEMENTS, Refinement, build_refinement
from ..utils.config_path import resolve_config
from ..utils.domain import UNIT, Domain
from ..utils.errors import ConfigError
from ..utils.settings import Settings, setting

# processes of a step: at least one, and not so many that the machine
# thrashes
WORKERS = Domain(1, 256, integer=True)
# self-training rounds: each trains one more segmentation network per row
ROUNDS = Domain(0, 10, integer=True)


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


@dataclass(frozen=True)
class PipelineSettings(Settings):
    """What the pipeline does after stage 1, for one stage-1 config."""

    seg_config: str = setting(
        'configs/deeplabv3plus_r101-d8_voc12aug-pseudo.py',
        'the segmentation config trained on the pseudo-labels (relative to '
        'the current directory or the installed configs)')
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
    eval_gt_dir: Optional[str] = setting(
        'SegmentationClass',
        'masks of the evaluation split (under the data root), to score; '
        'None: no masks (image labels only), nothing is scored')
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
        '(mmadv.evaluation.threshold_rules): MaskSweepThreshold (the '
        'sweep\'s best on every training mask, an upper bound), '
        'FixedThreshold, SubsetSweepThreshold (N masks) or OtsuThreshold '
        '(label-free)',
        factory=lambda: dict(type='MaskSweepThreshold'))
    crf: bool = setting(False, 'dense CRF on the pseudo-labels')
    uncertain: Optional[Tuple[float, float]] = setting(
        None, '(low, high): pixels whose highest map is in [low, high) are '
        'ignored (255) in the pseudo-labels', domain=UNIT)
    seg_protocols: Tuple[str, ...] = setting(
        ('single-scale', ),
        'the protocols the segmentation networks are tested under, each a '
        f'column of the table: {", ".join(SEG_PROTOCOLS)} '
        '(mmadv.engine.seg_protocols: multi-scale + flip, DeepLab\'s CRF)')
    self_training: int = setting(
        0, 'self-training rounds: each labels the training split with the '
        'row\'s last segmentation network and trains another on the labels, '
        'a row "<row> + self-training" (x2, x3, ...)', domain=ROUNDS)
    self_training_protocol: str = setting(
        'single-scale', 'the protocol of the predictions the self-training '
        'labels are the argmax of')
    self_training_uncertain: Optional[Tuple[float, float]] = setting(
        None, '(low, high): pixels whose most probable label\'s probability '
        'is in [low, high) are ignored (255) in the self-training labels',
        domain=UNIT)
    full_supervision: bool = setting(
        False, 'a row "<config> full supervision": the segmentation config '
        'trained on the training split\'s masks (every one needed), tested '
        'under each protocol: the ceiling of the other rows')
    workers: int = setting(
        doc='processes of the label PNGs and, on the CPU, of the maps (they '
        'do not change them)',
        factory=_default_workers, domain=WORKERS)
    refinements: Dict[str, Refinement] = setting(
        doc='the refinements of the maps, each a row <config><row>, by '
        'their key (random_walk, irn, dense_crf, a plugin\'s); set as '
        'wsss_pipeline.<key>',
        factory=dict)

    def _check(self) -> None:
        if self.train_split == self.eval_split:
            raise ConfigError('train_split and eval_split are both '
                              f'{self.train_split!r}')
        for name in ('train_split', 'eval_split'):
            split_file(getattr(self, name))
        check_scales(self.scales)
        if not self.thresholds:
            raise ConfigError('thresholds must not be empty')
        build_threshold_rule(self.threshold_rule)
        for name in ('uncertain', 'self_training_uncertain'):
            if getattr(self, name) is not None:
                check_uncertain(getattr(self, name))
        if not self.seg_protocols:
            raise ConfigError('seg_protocols must not be empty')
        for key in (*self.seg_protocols, self.self_training_protocol):
            seg_protocol(key)

    @classmethod
    def from_sources(cls, *sources: Tuple[str, Optional[dict]]
                     ) -> 'PipelineSettings':
        """The defaults updated by each ``(name, values)`` in turn (e.g. a
        config's ``wsss_pipeline``, then ``--pipeline-options``), every key
        and value checked, ``seg_config`` and the refinements' configs
        resolved.

        A key naming a refinement (``random_walk``) sets it: ``None``
        (none), ``True`` (its defaults), a dict of its settings or, for one
        with a model, its config's path; ``<key>.<name>`` sets one of its
        settings, the others from the earlier sources (unused, with a
        warning, when an earlier source set it to ``None``); and
        ``threshold_rule.<name>`` one entry of the rule's config
        (``threshold_rule.type`` a new rule, with its own defaults).

        Raises:
            ConfigError: A bad key or value (named with its source).
            MissingInputError: A config not found.
        """
        merged, refinements, named = {}, {}, {}
        for name, values in sources:
            values = dict(values or {})
            if 'refinements' in values:
                raise ConfigError(f'{name}: set a refinement by its key '
                                  f'({", ".join(REFINEMENTS.module_dict)}),'
                                  ' not in refinements')
            nested = {
                prefix: {
                    key.split('.', 1)[1]: values.pop(key)
                    for key in list(values) if key.startswith(prefix + '.')
                }
                for prefix in (*REFINEMENTS.module_dict, 'threshold_rule')
            }
            for key in REFINEMENTS.module_dict:
                if key in values:
                    refinements[key] = values.pop(key)
                    named[key] = name
                if nested[key] and key in refinements and \
                        refinements[key] is None and named[key] != name:
                    # off in an earlier source (one of several configs)
                    print_log(f'{name}: {sorted(nested[key])} of {key} '
                              f'unused: {key} is off ({named[key]})',
                              logger='current', level=logging.WARNING)
                elif nested[key]:
                    given = refinements.get(key)
                    kind = REFINEMENTS.get(key)
                    if isinstance(given, str):
                        given = dict(config=given)
                    elif given is True or given is None:
                        given = {}
                    refinements[key] = dict(given, **nested[key])
                    named[key] = name
                    for field_name, value in nested[key].items():
                        if field_name in {f.name for f in fields(kind)}:
                            kind.check_domain(
                                field_name, value,
                                f'{name}: setting {key}.{field_name}')
            merged.update(cls.conformed(values, name))
            rule = nested['threshold_rule']
            if rule:  # a new type starts from its own defaults
                merged['threshold_rule'] = dict(
                    {} if 'type' in rule else merged.get(
                        'threshold_rule', cls.default('threshold_rule')),
                    **rule)
        merged['refinements'] = {
            key: build_refinement(key, refinements[key], named[key])
            for key in REFINEMENTS.module_dict
            if refinements.get(key) not in (None, False)
        }
        merged['seg_config'] = resolve_config(
            merged.get('seg_config', cls.default('seg_config')),
            'seg_config')
        return cls(**merged)

    def to_dict(self) -> dict:
        """Plain values (tuples as lists, each refinement's settings a
        dict), as JSON holds them."""
        values = super().to_dict()
        values['refinements'] = {
            key: refinement.to_dict()
            for key, refinement in self.refinements.items()
        }
        return values
