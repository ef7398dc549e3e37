"""The whole WSSS pipeline, in one process, for one or more stage-1
configs.

For each config (e.g. the baseline CAM and adversarial erasing), under
``<work_dir>/<config name>/``:

0. ``configs/``: the stage-1, segmentation (and AffinityNet) configs with
   every override merged and the settings (``pipeline.json``); every step
   runs these. A rerun with other configs, overrides, settings or seed is
   refused, so that no step reuses outputs made otherwise;
1. ``stage1/``: the classifier trained (resumed if cut);
2. ``maps_<split>/``: attention maps of the training and evaluation
   splits (:func:`~mmadv.apis.infer_maps`);
3. ``threshold_maps_<train split>.json``: the background threshold, by
   the ``threshold_rule`` (:mod:`~mmadv.apis.threshold_rules`: the best
   of a sweep on the training masks, a fixed value, the best on N masks,
   or Otsu's rule without masks), recorded with what chose it;
   ``eval_maps_<split>.json``: the maps' mIoU at that threshold
   (:func:`~mmadv.apis.evaluate_maps`), for the training split when all
   its masks exist and the rule did not score them on the way (the
   default sweep over every mask does);
4. ``pseudo_labels_<train split>/``: pseudo-labels of the training split
   at that threshold (:func:`~mmadv.apis.write_pseudo_labels`);
5. ``seg/``, ``seg_test/``: the segmentation network trained on them and
   tested on the real masks of the evaluation split;
6. with ``random_walk`` (PSA's refinement): affinity labels of the
   training maps (``affinity_labels_<train split>/``), AffinityNet
   (``affinity/``), refined maps ``maps_rw_<split>/`` and steps 3-5 on
   them: a row ``<config> + random walk``;
7. with ``irn`` (IRN's refinement): relation labels
   (``relation_labels_<train split>/``), IRNet's boundary branch
   (``irn/``), the maps of its random walk ``maps_irn_<split>/`` and steps
   3-5 on them: a row ``<config> + IRN``. With both, both rows.

Every setting, config, split, image and mask the run needs is checked
before the first training. Each step is skipped when its output is
complete (a training when ``last_checkpoint`` names its final
checkpoint), so an interrupted run continues where it stopped. The
console shows one line per step (with a progress bar while it runs); each
step's full log goes to ``<work_dir>/<config name>/logs/``
(``verbose=True`` shows everything). At the end: the table of map,
pseudo-label and segmentation mIoU, ``<work_dir>/metrics.json`` (the same
numbers as fractions, the settings, where every output is and every
step's seconds) and the rows returned.

A subprocess runs only with ``gpus > 1``: then the trainings, tests and
map inference run as ``torchrun`` of the tools, one process per GPU, whose
output goes line by line into the step's log (and to the console with
``verbose``); those steps show no progress bar.
"""
import contextlib
import copy
import glob
import json
import logging
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmseg.registry import DATASETS
from prettytable import PrettyTable

from ..datasets.file_checks import check_mask
from ..datasets.layout import (IMG_SUFFIX, LOADERS, innermost_dataset,
                               missing_files, read_image_list, split_file)
from ..datasets.map_io import read_meta
from ..datasets.metainfo import IGNORE_INDEX, dataset_metainfo
from ..engine.dataset_fit import fit_to_dataset
from ..engine.model_loading import init_model
from ..engine.preflight import check_datasets, check_one_size, check_weights
from ..engine.training import test, train
from ..evaluation.map_evaluation import evaluate_maps
from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.image_size import check_image_sizes
from ..pseudo_labels.label_folder import write_pseudo_labels
from ..pseudo_labels.labeling import build_labeler
from ..pseudo_labels.map_folders import infer_maps
from ..pseudo_labels.map_inference import weights_record
from ..utils.atomic import write_json, write_text
from ..utils.console import erase_progress_bar, quiet
from ..utils.errors import ConfigError, InputError, MissingInputError
from ..utils.instances import forget_new_instances, unique_name
from ..utils.provenance import changes
from .settings import (REFINEMENTS, REPO, PipelineSettings, resolve_config,
                       threshold_labeler)

TOOLS = osp.join(REPO, 'tools')


def _read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _seeded(options: dict, seed: Optional[int]) -> dict:
    """``options`` with ``randomness.seed`` set when ``seed`` is given."""
    return options if seed is None else dict(options, **{
        'randomness.seed': seed})


def load_config(path: str, options: Optional[dict] = None) -> Config:
    """An iteration-based config with ``options`` merged."""
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    if cfg.get('train_cfg', {}).get('max_iters') is None:
        raise ConfigError(f'{path}: the pipeline needs an iteration-based '
                          'train_cfg (train_cfg.max_iters)')
    return cfg


def _frozen_path(root: str, filename: str, text: str, what: str,
                 frozen: Dict[str, str]) -> str:
    """``<root>/configs/<filename>``, to hold ``text`` (added to
    ``frozen``); refused when it holds another text already."""
    path = osp.join(root, 'configs', filename)
    if osp.isfile(path):
        with open(path) as f:
            if f.read() != text:
                raise InputError(
                    f'{root} was made with another {what} ({path}); choose '
                    'another work dir or delete it')
    frozen[path] = text
    return path


def training_done(work_dir: str, max_iters: int) -> str:
    """The final checkpoint of a training when it is complete (named by
    mmengine's ``last_checkpoint``, written after the file), else ''."""
    checkpoint = osp.join(work_dir, f'iter_{max_iters}.pth')
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(checkpoint) and osp.isfile(last):
        with open(last) as f:
            if f.read().strip() == checkpoint:
                return checkpoint
    return ''


def _frozen_config(config: str, work_dir: str) -> Config:
    """A frozen config to run in this process, into ``work_dir``."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    return cfg


def _label_record(summary: dict) -> dict:
    """What a label folder was made from: the settings its summary
    records (the maps' record, the labeler's settings)."""
    return {k: summary[k] for k in summary['setting_keys']}


def _made_from(folder: str, made_from: dict) -> None:
    """Record the inputs ``made_from`` of an output folder in its
    ``made_from.json``; a folder that records other inputs is refused
    (trained on other labels, tested with other weights)."""
    path = osp.join(folder, 'made_from.json')
    if not osp.isfile(path):
        write_json(path, made_from)
        return
    changed = changes(_read_json(path), made_from)
    if changed:
        raise InputError(f'{folder} was made from other inputs ('
                         f'{", ".join(changed[:3])}'
                         + (f' and {len(changed) - 3} more' if
                            len(changed) > 3 else '')
                         + '): delete it to make it again')


def _maps_done(folder: str) -> bool:
    meta = osp.join(folder, 'meta.json')
    return osp.isfile(meta) and len(glob.glob(osp.join(
        folder, '*.npz'))) >= _read_json(meta)['num_images']


@dataclass
class _Data:
    """Where a config's data is, checked to hold every file the run
    reads."""

    root: str
    img_dir: str
    img_suffix: str
    train_gt: Optional[str]
    eval_gt: str
    # the data set's classes and palette, for every stage
    # (dataset_metainfo)
    metainfo: dict = field(default_factory=dict)
    # every training image has a mask: the training split is scored
    train_scored: bool = False
    # the images of the training split
    train_names: List[str] = field(default_factory=list)

    @classmethod
    def checked(cls, data_root: str, dataset: dict,
                settings: PipelineSettings, source: str) -> '_Data':
        if not osp.isdir(data_root):
            raise MissingInputError(
                f'data root {data_root} not found (train_dataloader.dataset.'
                f'data_root of {source}, or data_root)')
        data = cls(
            root=data_root,
            img_dir=osp.join(data_root, dataset.data_prefix['img_path']),
            img_suffix=dataset.get('img_suffix', IMG_SUFFIX),
            train_gt=osp.join(data_root, settings.train_gt_dir)
            if settings.train_gt_dir else None,
            eval_gt=osp.join(data_root, settings.eval_gt_dir))
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
        data._check_split(settings.eval_split, data.eval_gt, list,
                          settings.max_pixels)
        return data

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
        needed = [(self.img_dir, self.img_suffix, 'images', names)]
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
        check_image_sizes((osp.join(self.img_dir, name + self.img_suffix)
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


@dataclass
class _TrainPlan:
    """A trained stage after stage 1 (a segmentation network, a refinement's
    model): the label folder it trains on and its frozen config."""

    labels: str
    cfg: Config
    config: str  # the frozen config file


@dataclass
class _Plan:
    """Everything one stage-1 config's run needs, checked and frozen."""

    name: str
    config: str
    root: str
    seed: Optional[int]
    cfg: Config
    stage1_config: str
    settings: PipelineSettings
    data: _Data
    seg: Dict[str, _TrainPlan] = field(default_factory=dict)
    # the frozen model configs of the refinements by their setting
    refine: Dict[str, _TrainPlan] = field(default_factory=dict)
    # the text of every frozen file by path, written by freeze()
    frozen: Dict[str, str] = field(default_factory=dict)

    def freeze(self) -> None:
        """Write the frozen files that are not there yet."""
        for path, text in self.frozen.items():
            if not osp.isfile(path):
                write_text(path, text)

    def common(self) -> dict:
        return dict(
            config=self.config,
            work_dir=self.root,
            data_root=self.data.root,
            img_dir=self.data.img_dir,
            img_suffix=self.data.img_suffix,
            seed=self.seed,
            **self.settings.to_dict())


def _check_training(cfg: Config, source: str) -> None:
    """The checks of a training's preflight that need no labels yet (its
    weights files; batches that can be stacked), before the pipeline's
    first training."""
    check_weights(cfg, source)
    check_one_size(fit_to_dataset(copy.deepcopy(cfg)), source)


def _seg_plan(root: str, tag: str, data: _Data, settings: PipelineSettings,
              seg_cfg_options: Optional[dict], seed: Optional[int],
              frozen: Dict[str, str]) -> _TrainPlan:
    """The pseudo-label folder ``pseudo_labels<tag>_<train split>`` and the
    merged, frozen segmentation config ``configs/seg<tag>.py`` that trains
    on it (and tests on the eval split's masks)."""
    pseudo = osp.join(root, f'pseudo_labels{tag}_{settings.train_split}')
    options = {
        **data.options(LOADERS),
        'train_dataloader.dataset.ann_file':
        split_file(settings.train_split),
        'train_dataloader.dataset.data_prefix.seg_map_path': pseudo,
    }
    for loader in LOADERS[1:]:
        options.update({
            f'{loader}.dataset.ann_file': split_file(settings.eval_split),
            f'{loader}.dataset.data_prefix.seg_map_path': data.eval_gt
        })
    options.update(settings.seg_cfg_options)
    options.update(seg_cfg_options or {})
    cfg = load_config(settings.seg_config, _seeded(options, seed))
    _check_training(cfg, settings.seg_config)
    return _TrainPlan(
        pseudo, cfg,
        _frozen_path(root, f'seg{tag}.py', cfg.pretty_text,
                     'segmentation config', frozen))


def _plan(config: str, work_dir: str, data_root: Optional[str],
          seed: Optional[int], cfg_options: Optional[dict],
          seg_cfg_options: Optional[dict],
          refine_cfg_options: Dict[str, Optional[dict]],
          pipeline_options: Optional[dict]) -> _Plan:
    """Load and check everything a config's run needs, and the texts of
    the files it freezes (:meth:`_Plan.freeze` writes them)."""
    config = resolve_config(config, 'config')
    cfg = load_config(config, cfg_options)
    check_weights(cfg, config)
    settings = PipelineSettings.from_sources(
        (f'{config}: wsss_pipeline', cfg.get('wsss_pipeline')),
        ('pipeline options', pipeline_options))
    dataset = innermost_dataset(cfg.train_dataloader.dataset)
    data = _Data.checked(
        osp.abspath(data_root or dataset.data_root), dataset, settings,
        config)
    name = osp.splitext(osp.basename(config))[0]
    root = osp.abspath(osp.join(work_dir, name))
    cfg.merge_from_dict(
        _seeded({f'{loader}.dataset.data_root': data.root
                 for loader in LOADERS}, seed))
    check_datasets(cfg, config)  # every list and label stage 1 reads
    check_one_size(fit_to_dataset(copy.deepcopy(cfg)), config)
    frozen = {}
    plan = _Plan(
        name=name,
        config=config,
        root=root,
        seed=seed,
        cfg=cfg,
        stage1_config=_frozen_path(root, 'stage1.py', cfg.pretty_text,
                                   'stage-1 config', frozen),
        settings=settings,
        data=data,
        frozen=frozen)
    plan.seg[''] = _seg_plan(root, '', data, settings, seg_cfg_options, seed,
                             frozen)
    _frozen_path(
        root, 'pipeline.json',
        json.dumps(dict(settings.frozen(), seed=seed), indent=2,
                   sort_keys=True), 'pipeline settings', frozen)
    for key, options in refine_cfg_options.items():
        if options and getattr(settings, key) is None:
            print_log(f'{name}: no {key} setting, its config options unused',
                      logger='current', level=logging.WARNING)
    for refine in settings.refinements():
        plan.seg[refine.tag] = _seg_plan(root, refine.tag, data, settings,
                                         seg_cfg_options, seed, frozen)
        labels = osp.join(root, f'{refine.labels}_{settings.train_split}')
        options = {
            **data.options(LOADERS[:1]),
            'train_dataloader.dataset.ann_file':
            split_file(settings.train_split),
            'train_dataloader.dataset.data_prefix.seg_map_path': labels,
            **refine.cfg_options,
            **(refine_cfg_options.get(refine.key) or {})
        }
        cfg = load_config(refine.config, _seeded(options, seed))
        _check_training(cfg, refine.config)
        plan.refine[refine.key] = _TrainPlan(
            labels, cfg,
            _frozen_path(root, f'{refine.model}.py', cfg.pretty_text,
                         f'{cfg.model.type} config', frozen))
    return plan


def _log_name(title: str) -> str:
    """The log file of step ``[<label>] <step>``: ``<step>.log``, with the
    refinement's setting as a prefix for a refinement's steps
    (``random_walk_``, ``irn_``)."""
    label, step = title[1:].split('] ', 1)
    prefix = ''.join(key + '_' for key, kind in REFINEMENTS.items()
                     if label.endswith(kind.row))
    return prefix + re.sub(r'[^A-Za-z0-9.-]+', '_', step) + '.log'


class _Steps:
    """Runs, times, skips and reports the steps of one config.

    Each step that runs prints one line when it ends (with a progress bar
    while it runs) and keeps its full output in ``<root>/logs/<step>.log``
    (on the console too with ``verbose``); its seconds are kept in
    ``<root>/step_seconds.json``, so that a rerun that skips it still
    reports them.
    """

    def __init__(self, root: str, logger: MMLogger, verbose: bool) -> None:
        self.root = root
        self.logger = logger
        self.verbose = verbose
        self.times_file = osp.join(root, 'step_seconds.json')
        self.seconds = _read_json(self.times_file) if osp.isfile(
            self.times_file) else {}

    def skip(self, title: str, note: str) -> None:
        self.logger.info(f'{title}: done before ({note})')

    @contextlib.contextmanager
    def run(self, title: str) -> Iterator[dict]:
        """Run the block as step ``title``; the yielded dict's ``note`` is
        the step's key number, shown in its line."""
        log_dir = osp.join(self.root, 'logs')
        os.makedirs(log_dir, exist_ok=True)
        log_file = osp.join(log_dir, _log_name(title))
        record = dict(note='')
        start = time.perf_counter()
        try:
            with forget_new_instances(), quiet(log_file, self.verbose):
                # the current logger of the step, on the redirected stdout
                MMLogger.get_instance(unique_name('step'),
                                      logger_name='mmadv')
                yield record
        except BaseException:  # an error, or Ctrl-C
            erase_progress_bar()
            self.logger.error(f'{title}: stopped after '
                              f'{time.perf_counter() - start:.0f} s (log: '
                              f'{log_file})')
            raise
        seconds = time.perf_counter() - start
        self.seconds[title] = seconds
        write_json(self.times_file, self.seconds)
        self.logger.info(f'{title}: {record["note"]} ({seconds:.0f} s)')


class _Runner:
    """The steps of one planned config (see the module docstring)."""

    def __init__(self, plan: _Plan, logger: MMLogger, gpus: int,
                 verbose: bool) -> None:
        self.plan = plan
        self.settings = plan.settings
        self.gpus = gpus
        self.verbose = verbose
        self.progress = not verbose
        self.steps = _Steps(plan.root, logger, verbose)

    # ------------------------------------------------------------- steps
    def _launch(self, script: str, *args, launcher: bool = True) -> None:
        """``torchrun`` of ``tools/<script>`` on ``gpus`` processes."""
        cmd = [
            sys.executable, '-m', 'torch.distributed.run', '--standalone',
            f'--nproc_per_node={self.gpus}',
            osp.join(TOOLS, script), *map(str, args)
        ]
        if launcher:
            cmd += ['--launcher', 'pytorch']
        # every line into the step's log (and the console with verbose),
        # which is where sys.stdout points
        with subprocess.Popen(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors='replace') as proc:
            try:
                for line in proc.stdout:
                    sys.stdout.write(line)
            except BaseException:  # Ctrl-C, a full disk: stop torchrun
                proc.kill()
                raise
        if proc.returncode != 0:
            raise InputError(f'{script} failed (exit {proc.returncode}): '
                             f'{shlex.join(cmd)}')

    def _train(self, title: str, cfg: Config, config: str, work_dir: str,
               made_from: Optional[dict] = None) -> str:
        """Train the frozen ``config`` into ``work_dir`` unless done (from
        the inputs ``made_from``, see :func:`_made_from`); the final
        checkpoint."""
        if made_from is not None:
            _made_from(work_dir, made_from)
        max_iters = cfg.train_cfg.max_iters
        checkpoint = training_done(work_dir, max_iters)
        if checkpoint:
            self.steps.skip(title, checkpoint)
            return checkpoint
        with self.steps.run(title) as step:
            if self.gpus > 1:
                self._launch('train.py', config, '--work-dir', work_dir,
                             '--resume')
            else:
                train(_frozen_config(config, work_dir), resume=True,
                      progress=self.progress)
            step['note'] = f'{max_iters} iterations'
        return training_done(work_dir, max_iters)

    def _test(self, title: str, config: str, checkpoint: str,
              work_dir: str) -> float:
        """The segmentation mIoU (a fraction) of ``checkpoint``."""
        _made_from(work_dir, weights_record(checkpoint))
        path = osp.join(work_dir, 'test_metrics.json')
        if osp.isfile(path):
            miou = _read_json(path)['mIoU'] / 100
            self.steps.skip(title, f'mIoU {miou * 100:.2f}')
            return miou
        with self.steps.run(title) as step:
            if self.gpus > 1:
                self._launch('test.py', config, checkpoint, '--work-dir',
                             work_dir)
            else:
                test(_frozen_config(config, work_dir), checkpoint,
                     progress=self.progress)
            # mmseg's IoUMetric reports percent; the rows hold fractions
            miou = _read_json(path)['mIoU'] / 100
            step['note'] = f'mIoU {miou * 100:.2f}'
        return miou

    def _maps(self, title: str, folder: str,
              make: Callable[[], Dict[str, int]], made_from: dict) -> None:
        """Make the map folder unless done; a done one must have been
        made from ``made_from`` (its ``meta.json`` entries)."""
        if _maps_done(folder):
            changed = changes(read_meta(folder), made_from, made_from)
            if changed:
                raise InputError(
                    f'{folder} holds maps made from other inputs ('
                    f'{", ".join(changed)}): delete it and the outputs made '
                    'from it to make them again')
            self.steps.skip(title, folder)
            return
        with self.steps.run(title) as step:
            stats = make()
            step['note'] = (f'{stats["written"]} map files, '
                            f'{stats["skipped"]} kept' if stats else
                            'maps written')

    def _evaluate(self, title: str, folder: str, gt_dir: str, split: str,
                  thresholds: Sequence[float]) -> dict:
        path = osp.join(osp.dirname(folder),
                        'eval_' + osp.basename(folder) + '.json')
        # scores of these maps at these thresholds only: maps made again,
        # or another threshold, are scored again
        scores = _read_json(path) if osp.isfile(path) else {}
        if scores.get('map_meta') != read_meta(folder) or scores.get(
                'thresholds') != [float(t) for t in thresholds]:
            with self.steps.run(title) as step:
                result = evaluate_maps(folder, gt_dir, split, thresholds)
                result.log()
                result.dump(path)
                step['note'] = (f'mIoU {result.best_miou * 100:.2f} at '
                                f'threshold {result.best_threshold:.2f}')
            return result.to_json()['best']
        best = scores['best']
        self.steps.skip(title, f'mIoU {best["mIoU"] * 100:.2f} at threshold '
                        f'{best["threshold"]:.2f}')
        return best

    def _choose(self, title: str, folder: str, split: str) -> dict:
        """The background threshold of the maps of ``folder`` by the
        settings' ``threshold_rule``, recorded in
        ``threshold_<folder>.json`` with the maps' record and the rule (a
        recorded choice of the same maps and rule is read back)."""
        settings = self.settings
        path = osp.join(osp.dirname(folder),
                        'threshold_' + osp.basename(folder) + '.json')
        made_from = dict(map_meta=read_meta(folder),
                         threshold_rule=settings.threshold_rule,
                         thresholds=list(settings.thresholds))
        if osp.isfile(path):
            choice = _read_json(path)
            if not changes(choice, made_from, made_from):
                self.steps.skip(title, f'{choice["threshold"]:.3f} '
                                f'({choice["rule"]})')
                return choice
        rule = build_threshold_rule(settings.threshold_rule)
        with self.steps.run(title) as step:
            choice = dict(rule.choose(folder, split, self.plan.data.train_gt,
                                      settings.thresholds).to_json(),
                          **made_from)
            write_json(path, choice)
            miou = choice['split_miou']
            score = '' if miou is None else f', mIoU {miou * 100:.2f}'
            step['note'] = f'{choice["threshold"]:.3f} ({choice["rule"]}, ' \
                f'{choice["num_masks"]} masks read{score})'
        return _read_json(path)

    def _labels(self, title: str, folder: str, write: Callable[[], dict],
                made_from: dict) -> dict:
        """Write the label folder ``folder`` unless its summary
        ``<folder>.json`` records ``made_from`` (the maps' record, the
        labeler's settings) and it holds the PNG of every training image
        (a deleted one is made again, the others kept); labels of other
        maps or settings are given to ``write``, which refuses their
        folder. Returns the summary (``write`` writes it too): the
        settings, ``setting_keys`` and the counts."""
        summary = folder + '.json'
        if osp.isfile(summary):
            result = _read_json(summary)
            if not changes(result, made_from, made_from) and \
                    not missing_files(folder, self.plan.data.train_names,
                                      '.png'):
                self.steps.skip(title, summary)
                return result
        with self.steps.run(title) as step:
            result = write()
            step['note'] = f'{result["written"]} written, ' \
                f'{result["skipped"]} kept' + (
                    f', mIoU {result["mIoU"] * 100:.2f}'
                    if result['mIoU'] is not None else '')
        return _read_json(summary)

    # --------------------------------------------------------- the graph
    def run(self) -> Dict[str, dict]:
        """Every step of the config; its rows: ``<name>`` and, with
        ``random_walk`` and ``irn``, ``<name> + random walk`` and ``<name>
        + IRN``."""
        plan, settings = self.plan, self.settings
        checkpoint = self._train(f'[{plan.name}] stage 1', plan.cfg,
                                 plan.stage1_config,
                                 osp.join(plan.root, 'stage1'))
        model = None

        def stage1_maps(split: str, folder: str) -> Dict[str, int]:
            nonlocal model
            if self.gpus > 1:
                self._launch('infer_cam.py', plan.stage1_config, checkpoint,
                             '--split', split, '--out-dir', folder,
                             *settings.arguments(('scales', 'flip',
                                                  'max_pixels')),
                             '--workers', settings.workers, launcher=False)
                return {}
            if model is None:
                model = init_model(plan.stage1_config, checkpoint)
            return infer_maps(model, split, folder, settings.scales,
                              settings.flip, settings.workers,
                              settings.max_pixels)

        rows = {
            plan.name:
            dict(
                plan.common(),
                stage1_checkpoint=checkpoint,
                **self._maps_to_segmentation(
                    plan.name, '', stage1_maps,
                    lambda split: weights_record(checkpoint)))
        }
        model = None  # the stage-1 model is not needed again
        for refine in settings.refinements():
            label = plan.name + refine.row
            rows[label] = dict(
                plan.common(), stage1_checkpoint=checkpoint,
                **self._refine(label, refine))
        return rows

    def _refine(self, label: str, refine) -> dict:
        """A refinement's steps (``refine``: its settings,
        :class:`~mmadv.apis.settings.RandomWalkSettings` or
        :class:`~mmadv.apis.settings.IRNSettings`): its training labels
        from the training maps, its model trained on them, the maps it
        refines (``maps<tag>_<split>``) and steps 3-5 on them. Returns the
        metrics of its row."""
        plan, settings = self.plan, self.settings
        stage = plan.refine[refine.key]
        model_type = stage.cfg.model.type
        train_maps = osp.join(plan.root, f'maps_{settings.train_split}')
        summary = stage.labels + '.json'
        labels = self._labels(
            f'[{label}] {refine.labels.replace("_", " ")}', stage.labels,
            lambda: write_pseudo_labels(
                train_maps, plan.data.img_dir, stage.labels,
                settings.train_split, refine.labeler(), settings.workers,
                img_suffix=plan.data.img_suffix, json_path=summary,
                max_pixels=settings.max_pixels),
            dict(map_meta=read_meta(train_maps),
                 **build_labeler(refine.labeler()).settings()))
        refine_checkpoint = self._train(f'[{label}] {model_type}', stage.cfg,
                                        stage.config,
                                        osp.join(plan.root, refine.model),
                                        _label_record(labels))
        model = None

        def refined_maps(split: str, folder: str) -> Dict[str, int]:
            nonlocal model
            maps = osp.join(plan.root, f'maps_{split}')
            if self.gpus > 1:
                self._launch(refine.tool, stage.config, refine_checkpoint,
                             maps, '--split', split, '--out-dir', folder,
                             *refine.tool_args(),
                             *settings.arguments(('max_pixels', )),
                             '--workers', settings.workers, launcher=False)
                return {}
            if model is None:
                model = init_model(stage.config, refine_checkpoint)
            return refine.refine(model, maps, split, folder,
                                 settings.workers, settings.max_pixels)

        return dict(
            {f'{refine.model}_checkpoint': refine_checkpoint},
            **self._maps_to_segmentation(
                label, refine.tag, refined_maps, lambda split: dict(
                    weights_record(refine_checkpoint),
                    maps_meta=read_meta(
                        osp.join(plan.root, f'maps_{split}')))))

    def _maps_to_segmentation(
            self, label: str, tag: str,
            make_maps: Callable[[str, str], Dict[str, int]],
            made_from: Callable[[str], dict]) -> dict:
        """Steps 2-5 for the maps ``maps<tag>_<split>`` (``make_maps(split,
        folder)`` writes them, from the inputs ``made_from(split)``): their
        evaluation (threshold chosen on the training split), pseudo-labels,
        segmentation training and test. Returns the metrics of the row."""
        plan, settings = self.plan, self.settings
        train_split, eval_split = settings.train_split, settings.eval_split
        seg = plan.seg[tag]
        metrics = dict(map_dirs={})
        train_gt = plan.data.train_gt if plan.data.train_scored else None
        for split, gt_dir in ((train_split, train_gt),
                              (eval_split, plan.data.eval_gt)):
            folder = osp.join(plan.root, f'maps{tag}_{split}')
            metrics['map_dirs'][split] = folder
            self._maps(f'[{label}] maps {split}', folder,
                       lambda: make_maps(split, folder), made_from(split))
            if split == train_split:
                choice = self._choose(f'[{label}] threshold {split}', folder,
                                      split)
                metrics.update(bg_threshold=choice['threshold'],
                               threshold_rule=choice['rule'])
            if gt_dir is None:
                metrics[f'map_miou_{split}'] = None
            elif split == train_split and choice['split_miou'] is not None:
                # the rule scored the whole split on the way (the sweep)
                metrics[f'map_miou_{split}'] = choice['split_miou']
            else:
                metrics[f'map_miou_{split}'] = self._evaluate(
                    f'[{label}] evaluate maps {split}', folder, gt_dir,
                    split, [metrics['bg_threshold']])['mIoU']
        summary = seg.labels + '.json'
        labeler = threshold_labeler(metrics['bg_threshold'],
                                    settings.uncertain, settings.crf)
        result = self._labels(
            f'[{label}] pseudo-labels', seg.labels,
            lambda: write_pseudo_labels(
                metrics['map_dirs'][train_split], plan.data.img_dir,
                seg.labels, train_split, labeler, settings.workers,
                train_gt, plan.data.img_suffix, summary,
                settings.max_pixels),
            dict(map_meta=read_meta(metrics['map_dirs'][train_split]),
                 **build_labeler(labeler).settings()))
        metrics['pseudo_label_miou'] = result.get('mIoU')
        seg_checkpoint = self._train(f'[{label}] segmentation', seg.cfg,
                                     seg.config,
                                     osp.join(plan.root, f'seg{tag}'),
                                     _label_record(result))
        metrics['seg_miou'] = self._test(
            f'[{label}] test segmentation', seg.config, seg_checkpoint,
            osp.join(plan.root, f'seg{tag}_test'))
        metrics.update(seg_checkpoint=seg_checkpoint,
                       pseudo_labels=seg.labels,
                       step_seconds={
                           k: v
                           for k, v in self.steps.seconds.items()
                           if k.startswith(f'[{label}]')
                       })
        return metrics


def summary_table(rows: Dict[str, dict]) -> str:
    """One row per config: mIoU (%) of the maps on both splits, the
    threshold, the pseudo-labels and the segmentation, and the seconds of
    its steps."""
    table = PrettyTable()
    table.field_names = [
        'config', 'maps mIoU (train)', 'maps mIoU (eval)', 'bg threshold',
        'threshold by', 'pseudo-labels mIoU', 'segmentation mIoU (eval)',
        'seconds'
    ]

    def fmt(value):
        return '-' if value is None else f'{value * 100:.2f}'

    for name, m in rows.items():
        table.add_row([
            name,
            fmt(m[f'map_miou_{m["train_split"]}']),
            fmt(m[f'map_miou_{m["eval_split"]}']),
            f'{m["bg_threshold"]:.2f}',
            m.get('threshold_rule', '-'),
            fmt(m['pseudo_label_miou']),
            fmt(m['seg_miou']),
            f'{sum(m.get("step_seconds", {}).values()):.0f}'
        ])
    return table.get_string()


def run_pipeline(configs: Sequence[str],
                 work_dir: str = 'work_dirs/pipeline',
                 data_root: Optional[str] = None,
                 seed: Optional[int] = None,
                 cfg_options: Optional[dict] = None,
                 seg_cfg_options: Optional[dict] = None,
                 affinity_cfg_options: Optional[dict] = None,
                 pipeline_options: Optional[dict] = None,
                 gpus: int = 1,
                 irn_cfg_options: Optional[dict] = None,
                 verbose: bool = False) -> Dict[str, dict]:
    """Run the pipeline (see the module docstring) for every config.

    Args:
        configs (Sequence[str]): Stage-1 configs (relative to the current
            directory or the repository); their names must differ.
        work_dir (str): Where everything goes. Defaults to
            ``'work_dirs/pipeline'``.
        data_root (str, optional): Overrides the configs' data roots.
        seed (int, optional): ``randomness.seed`` of every training.
        cfg_options (dict, optional): Overrides of the stage-1 configs.
        seg_cfg_options (dict, optional): Overrides of the segmentation
            configs.
        affinity_cfg_options (dict, optional): Overrides of the AffinityNet
            configs (with ``random_walk``).
        pipeline_options (dict, optional): Overrides of the settings
            (:class:`~mmadv.apis.PipelineSettings`), e.g.
            ``dict(crf=True)``.
        gpus (int): Processes per training, test and inference step
            (``torchrun``) when > 1. Defaults to 1.
        verbose (bool): Every log line on the console. Defaults to False.
        irn_cfg_options (dict, optional): Overrides of the IRNet configs
            (with ``irn``).

    Returns:
        dict: The rows of the summary table by name (``<config name>``,
        ``<config name> + random walk``, ``<config name> + IRN``): the
        settings, the mIoUs
        (``map_miou_<split>``, ``pseudo_label_miou``, ``seg_miou``, as
        fractions), ``bg_threshold``, the checkpoints and folders, and
        ``step_seconds``; also written to ``<work_dir>/metrics.json``.
    """
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if not configs or len(set(names)) < len(names):
        raise ConfigError(f'configs must be given and named apart (each '
                          f'gets <work_dir>/<name>), got {names}')
    if gpus < 1:
        raise ConfigError(f'gpus must be >= 1, got {gpus}')
    os.makedirs(work_dir, exist_ok=True)
    with forget_new_instances():
        logger = MMLogger.get_instance(
            unique_name('pipeline'),
            logger_name='mmadv',
            log_file=osp.join(work_dir, 'pipeline.log'),
            file_mode='a')
        # every config checked, then frozen, before the first training
        plans: List[_Plan] = [
            _plan(config, work_dir, data_root, seed, cfg_options,
                  seg_cfg_options,
                  dict(random_walk=affinity_cfg_options,
                       irn=irn_cfg_options), pipeline_options)
            for config in configs
        ]
        for plan in plans:
            plan.freeze()
        rows = {}
        for plan in plans:
            rows.update(_Runner(plan, logger, gpus, verbose).run())
        metrics_file = osp.join(work_dir, 'metrics.json')
        write_json(metrics_file, rows)
        logger.info('\n' + summary_table(rows))
        logger.info(f'metrics: {osp.abspath(metrics_file)}')
        for name, m in rows.items():
            logger.info(f'{name}: stage-1 checkpoint '
                        f'{m["stage1_checkpoint"]}, pseudo-labels '
                        f'{m["pseudo_labels"]}/, segmentation checkpoint '
                        f'{m["seg_checkpoint"]}')
    return rows
