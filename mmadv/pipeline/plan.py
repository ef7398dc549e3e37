"""Everything one stage-1 config's run needs, checked and frozen before the
first training: its settings, its data, and the merged config of every
network it trains (stage 1, each segmentation network, each refinement's
model), which its steps run from ``<work dir>/<config name>/configs/``.
"""
import copy
import logging
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log

from ..datasets.layout import LOADERS, innermost_dataset, split_file
from ..engine.dataset_fit import fit_to_dataset
from ..engine.preflight import check_datasets, check_one_size, check_weights
from ..refinements import REFINEMENTS
from ..utils.config_path import resolve_config
from ..utils.errors import ConfigError
from .data import Data
from .records import check_frozen, freeze_config
from .settings import PipelineSettings

SEG = 'seg'  # the segmentation networks' key in model_cfg_options
# the tag of the full-supervision row's segmentation network
FULL_TAG = '_full'
# without evaluation masks (image labels only) the trainings validate on
# nothing and nothing is tested: mmengine builds no val or test loop when
# its loader, loop and evaluator are None
NO_VALIDATION = {
    f'{part}_{what}': None
    for part in ('val', 'test') for what in ('dataloader', 'cfg', 'evaluator')
}


def load_config(path: str, options: Optional[dict] = None) -> Config:
    """An iteration-based config with ``options`` merged."""
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    if cfg.get('train_cfg', {}).get('max_iters') is None:
        raise ConfigError(f'{path}: the pipeline needs an iteration-based '
                          'train_cfg (train_cfg.max_iters)')
    return cfg


def _seeded(options: dict, seed: Optional[int]) -> dict:
    """``options`` with ``randomness.seed`` set when ``seed`` is given."""
    return options if seed is None else dict(options, **{
        'randomness.seed': seed})


def _check_training(cfg: Config, source: str) -> None:
    """The checks of a training's preflight that need no labels yet (its
    weights files; batches that can be stacked), before the pipeline's
    first training."""
    check_weights(cfg, source)
    check_one_size(fit_to_dataset(copy.deepcopy(cfg)), source)


@dataclass
class Trained:
    """A network the run trains: its merged config, the frozen file its
    steps run, and the label folder it trains on ('' for stage 1)."""

    cfg: Config
    config: str
    labels: str = ''


@dataclass
class ConfigPlan:
    """One stage-1 config's run (:func:`plan_config`).

    Attributes:
        name (str): The config's name, its rows' and work directory's.
        config (str): The stage-1 config file.
        root (str): Its work directory, ``<work_dir>/<name>``.
        seed (int, optional): ``randomness.seed`` of every training.
        settings (PipelineSettings): Its settings.
        data (Data): Its data, checked.
        stage1 (Trained): The classifier.
        seg (dict): The segmentation network of each row, by the row's
            tag ('' for the thresholded maps' row).
        models (dict): The model of each refinement that trains one, by
            its key.
    """

    name: str
    config: str
    root: str
    seed: Optional[int]
    settings: PipelineSettings
    data: Data
    stage1: Trained
    seg: Dict[str, Trained] = field(default_factory=dict)
    models: Dict[str, Trained] = field(default_factory=dict)
    # the configs that are not written yet, or written in another root
    _to_freeze: list = field(default_factory=list, repr=False)

    def freeze(self) -> None:
        """Write the frozen configs its steps run."""
        for cfg, path in self._to_freeze:
            freeze_config(cfg, path, self.root)
        self._to_freeze.clear()

    def trained(self, cfg: Config, filename: str, what: str,
                labels: str = '') -> Trained:
        """``cfg``, frozen as ``configs/<filename>``: refused when the work
        directory holds another (:func:`~.records.check_frozen`)."""
        path = osp.join(self.root, 'configs', filename)
        if check_frozen(cfg, path, self.root, what):
            self._to_freeze.append((cfg, path))
        return Trained(cfg, path, labels)


def _trained_on(data: Data, loaders: Sequence[str], split: str,
                labels: str) -> dict:
    """The config options of a network trained on the label folder
    ``labels`` of ``split``: the data's root and classes for ``loaders``,
    the split's list and the labels for the training loader."""
    return {
        **data.options(loaders),
        'train_dataloader.dataset.ann_file': split_file(split),
        'train_dataloader.dataset.data_prefix.seg_map_path': labels,
    }


def self_training_tag(tag: str, number: int) -> str:
    """The tag of self-training round ``number`` of the row with
    ``tag``."""
    return f'{tag}_st{number}'


def _seg(plan: ConfigPlan, tag: str, options: Optional[dict],
         labels: Optional[str] = None) -> Trained:
    """The segmentation network of the row with ``tag``: the pseudo-label
    folder ``pseudo_labels<tag>_<train split>`` it trains on (or
    ``labels``) and its config ``configs/seg<tag>.py`` (tested on the eval
    split's masks)."""
    settings, data = plan.settings, plan.data
    labels = labels or osp.join(plan.root,
                                f'pseudo_labels{tag}_{settings.train_split}')
    merged = _trained_on(data, LOADERS, settings.train_split, labels)
    for loader in LOADERS[1:] if data.scored else ():
        merged[f'{loader}.dataset.ann_file'] = split_file(settings.eval_split)
        merged[f'{loader}.dataset.data_prefix.seg_map_path'] = data.eval_gt
    # the network's own options beat the run's seed
    merged = {**_seeded(merged, plan.seed), **(options or {})}
    cfg = load_config(settings.seg_config, merged)
    if not data.scored:
        cfg.merge_from_dict(NO_VALIDATION)
    _check_training(cfg, settings.seg_config)
    return plan.trained(cfg, f'seg{tag}.py', 'segmentation config', labels)


def plan_config(config: str, work_dir: str, data_root: Optional[str],
                seed: Optional[int], cfg_options: Optional[dict],
                model_cfg_options: Dict[str, dict],
                pipeline_options: Optional[dict]) -> ConfigPlan:
    """Load and check everything the run of ``config`` needs (see
    :func:`~mmadv.pipeline.run.run_pipeline` for the arguments); nothing
    is written (:meth:`ConfigPlan.freeze` writes the configs)."""
    config = resolve_config(config, 'config')
    cfg = load_config(config, cfg_options)
    check_weights(cfg, config)
    settings = PipelineSettings.from_sources(
        (f'{config}: wsss_pipeline', cfg.get('wsss_pipeline')),
        ('pipeline options', pipeline_options))
    dataset = innermost_dataset(cfg.train_dataloader.dataset)
    data = Data.checked(
        osp.abspath(data_root or dataset.data_root), dataset, settings,
        config)
    cfg.merge_from_dict(
        _seeded({f'{loader}.dataset.data_root': data.root
                 for loader in LOADERS}, seed))
    if not data.scored:
        cfg.merge_from_dict(NO_VALIDATION)
    check_datasets(cfg, config)  # every list and label stage 1 reads
    check_one_size(fit_to_dataset(copy.deepcopy(cfg)), config)
    name = osp.splitext(osp.basename(config))[0]
    plan = ConfigPlan(name, config, osp.abspath(osp.join(work_dir, name)),
                      seed, settings, data, stage1=None)
    plan.stage1 = plan.trained(cfg, 'stage1.py', 'stage-1 config')
    plan.seg[''] = _seg(plan, '', model_cfg_options.get(SEG))
    for key, options in model_cfg_options.items():
        refinement = settings.refinements.get(key)
        if key != SEG and not (refinement and refinement.trains_model):
            print_log(f'{name}: no {key} model, its config options unused',
                      logger='current', level=logging.WARNING)
    for key, refinement in settings.refinements.items():
        plan.seg[refinement.tag] = _seg(plan, refinement.tag,
                                        model_cfg_options.get(SEG))
    for tag in list(plan.seg):
        for number in range(1, settings.self_training + 1):
            tag_n = self_training_tag(tag, number)
            plan.seg[tag_n] = _seg(plan, tag_n, model_cfg_options.get(SEG))
    if settings.full_supervision:
        if not data.train_scored:
            raise ConfigError(
                f'{config}: full_supervision trains on the masks of every '
                f'image of {settings.train_split}, and {data.train_gt} does '
                'not hold them all')
        plan.seg[FULL_TAG] = _seg(plan, FULL_TAG, model_cfg_options.get(SEG),
                                  data.train_gt)
    for key, refinement in settings.refinements.items():
        if not refinement.trains_model:
            continue
        labels = osp.join(plan.root,
                          f'{refinement.labels}_{settings.train_split}')
        # the network's own options beat the run's seed
        options = {
            **_seeded(_trained_on(data, LOADERS[:1], settings.train_split,
                                  labels), seed),
            **(model_cfg_options.get(key) or {})
        }
        model_cfg = load_config(refinement.config, options)
        _check_training(model_cfg, refinement.config)
        plan.models[key] = plan.trained(
            model_cfg, f'{refinement.model}.py',
            f'{model_cfg.model.type} config', labels)
    return plan


def check_model_keys(model_cfg_options: Optional[dict]) -> Dict[str, dict]:
    """``model_cfg_options`` checked: keyed by ``seg`` or a registered
    refinement's key."""
    known = {SEG, *REFINEMENTS.module_dict}
    unknown = sorted(set(model_cfg_options or {}) - known)
    if unknown:
        raise ConfigError(f'model_cfg_options: no model {unknown} (the '
                          f'models: {sorted(known)})')
    return dict(model_cfg_options or {})
