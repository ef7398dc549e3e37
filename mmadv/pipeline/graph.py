"""The steps of a config's run, as data (:class:`~mmadv.pipeline.step.
Step`), built from its plan and its refinements.

For a config ``<name>`` with work directory ``<root>``::

    [<name>] stage 1                     stage1/
    [<row>]  maps <train split>          maps<tag>_<train split>/
    [<row>]  threshold <train split>     threshold_maps<tag>_<split>.json
    [<row>]  evaluate maps <train split> (when the rule scored none)
    [<row>]  maps <eval split>           maps<tag>_<eval split>/
    [<row>]  evaluate maps <eval split>  eval_maps<tag>_<split>.json
    [<row>]  pseudo-labels               pseudo_labels<tag>_<train split>/
    [<row>]  segmentation                seg<tag>/
    [<row>]  test segmentation           seg<tag>_test/

for the row ``<name>`` (the thresholded maps, tag '') and, for each
refinement, the row ``<name><refinement.row>`` (tag ``refinement.tag``),
whose maps are the refinement's of the first row's maps, and which
trains its model first when it has one::

    [<row>]  <refinement.labels>         <labels>_<train split>/
    [<row>]  <refinement.network>        <refinement.model>/

Without evaluation masks, the steps that score are left out.
"""
import glob
import json
import os.path as osp
import re
from typing import Callable, Dict, List, Optional

from ..datasets.layout import missing_files
from ..datasets.map_io import read_meta
from ..engine.training import last_checkpoint
from ..evaluation.map_evaluation import evaluate_maps
from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.label_folder import write_pseudo_labels
from ..pseudo_labels.labeling import build_labeler
from ..refinements import Refinement
from ..utils.atomic import write_json
from ..utils.provenance import file_sha256, library_versions
from .launcher import Launcher
from .plan import ConfigPlan, Trained
from .records import config_digest
from .rows import Row
from .settings import threshold_labeler
from .step import Results, Step


def training_done(work_dir: str, max_iters: int) -> str:
    """The final checkpoint of a training when it is complete (named by
    mmengine's ``last_checkpoint``, written after the file), else ''."""
    checkpoint = osp.join(work_dir, f'iter_{max_iters}.pth')
    if osp.isfile(checkpoint) and last_checkpoint(work_dir) == checkpoint:
        return checkpoint
    return ''


def maps_done(folder: str) -> bool:
    """Whether a map folder holds the maps of every image of its list."""
    meta = osp.join(folder, 'meta.json')
    if not osp.isfile(meta):
        return False
    with open(meta) as f:
        total = json.load(f)['num_images']
    return len(glob.glob(osp.join(folder, '*.npz'))) >= total


def weights(checkpoint: str) -> dict:
    """What a step records of the weights it reads: path and content."""
    return dict(checkpoint=checkpoint, sha256=file_sha256(checkpoint))


class ConfigGraph:
    """The steps of one planned config (see the module docstring).

    Args:
        plan (ConfigPlan): The config's plan.
        launcher (Launcher): Where trainings, tests and the maps of a
            model run.
        progress (bool): Progress bars in this process.
    """

    def __init__(self, plan: ConfigPlan, launcher: Launcher,
                 progress: bool) -> None:
        self.plan = plan
        self.launcher = launcher
        self.progress = progress and launcher.gpus <= 1
        self.steps: List[Step] = []
        self.rows: Dict[str, Callable[[Results], Row]] = {}

    def build(self) -> 'ConfigGraph':
        """Every step of the config, and how each row is read from their
        results."""
        plan, settings = self.plan, self.plan.settings
        stage1 = self._train(plan.name, 'stage 1', '', 'stage1',
                             plan.stage1, None)
        self._row(plan.name, '', None, stage1, self._stage1_maps(stage1))
        for key, refinement in settings.refinements.items():
            label = plan.name + refinement.row
            model = None
            if refinement.trains_model:
                labels = self._labels(
                    label, refinement.labels.replace('_', ' '), key + '_',
                    plan.models[key].labels,
                    osp.join(plan.root, f'maps_{settings.train_split}'),
                    lambda results, refinement=refinement:
                    refinement.labeler(), None)
                model = self._train(label, refinement.network, key + '_',
                                    refinement.model, plan.models[key],
                                    labels)
            self._row(label, refinement.tag, refinement, stage1,
                      self._refined_maps(refinement, model), model)
        return self

    # ------------------------------------------------------------ steps
    def _add(self, label: str, what: str, prefix: str, outputs: List[str],
             inputs, run, complete=lambda results, result: True) -> str:
        title = f'[{label}] {what}'
        log = prefix + re.sub(r'[^A-Za-z0-9.-]+', '_', what) + '.log'
        self.steps.append(Step(title, log, outputs, inputs, run, complete))
        return title

    def _train(self, label: str, what: str, prefix: str, folder: str,
               trained: Trained, labels: Optional[str]) -> str:
        """Train ``trained`` into ``<root>/<folder>`` (resuming it), on the
        labels of step ``labels``."""
        work_dir = osp.join(self.plan.root, folder)
        max_iters = trained.cfg.train_cfg.max_iters

        def run(results):
            self.launcher('mmadv.engine.training:train_from_file',
                          config=trained.config, work_dir=work_dir,
                          progress=self.progress)
            checkpoint = training_done(work_dir, max_iters)
            return dict(weights(checkpoint),
                        note=f'{max_iters} iterations')

        return self._add(
            label, what, prefix, [folder],
            lambda results: dict(
                config=config_digest(trained.cfg, self.plan.root),
                labels=results[labels]['made_from'] if labels else None),
            run, lambda results, result: bool(
                training_done(work_dir, max_iters))
            and file_sha256(result['checkpoint']) == result['sha256'])

    def _stage1_maps(self, stage1: str) -> Callable:
        """The maps of a split (``make(split, folder)``: inputs and run)
        by the stage-1 classifier."""
        settings = self.plan.settings

        def make(split: str, folder: str):
            return (lambda results: dict(
                weights=results[stage1]['sha256'], split=split,
                scales=list(settings.scales), flip=settings.flip),
                    lambda results: self.launcher(
                        'mmadv.pseudo_labels.map_folders:'
                        'infer_maps_from_files',
                        config=self.plan.stage1.config,
                        checkpoint=results[stage1]['checkpoint'],
                        split=split, out_dir=folder,
                        scales=list(settings.scales), flip=settings.flip,
                        num_workers=settings.workers,
                        max_pixels=settings.max_pixels))

        return make

    def _refined_maps(self, refinement: Refinement,
                      model: Optional[str]) -> Callable:
        """The refined maps of a split, of the first row's maps."""
        plan, settings = self.plan, self.plan.settings
        # a refinement without a model is not sharded over the GPUs
        launcher = self.launcher if model else Launcher(1)

        def make(split: str, folder: str):
            maps = osp.join(plan.root, f'maps_{split}')
            return (lambda results: dict(
                maps=read_meta(maps), refinement=refinement.map_settings(),
                weights=results[model]['sha256'] if model else None),
                    lambda results: launcher(
                        'mmadv.refinements.base:refine_from_files',
                        key=refinement.key, settings=refinement.to_dict(),
                        config=plan.models[refinement.key].config
                        if model else None,
                        checkpoint=results[model]['checkpoint']
                        if model else None,
                        map_dir=maps, split=split, out_dir=folder,
                        images=list(plan.data.images),
                        workers=settings.workers,
                        max_pixels=settings.max_pixels))

        return make

    def _maps(self, label: str, tag: str, prefix: str, split: str,
              make: Callable) -> str:
        folder = f'maps{tag}_{split}'
        out_dir = osp.join(self.plan.root, folder)
        inputs, work = make(split, out_dir)

        def run(results):
            stats = work(results)
            return dict(note=f'{stats["written"]} map files, '
                        f'{stats["skipped"]} kept' if stats else
                        'maps written')

        return self._add(label, f'maps {split}', prefix, [folder], inputs,
                         run, lambda results, result: maps_done(out_dir))

    def _threshold(self, label: str, tag: str, prefix: str,
                   rule: dict) -> str:
        plan, settings = self.plan, self.plan.settings
        split = settings.train_split
        folder = osp.join(plan.root, f'maps{tag}_{split}')
        name = f'threshold_maps{tag}_{split}.json'

        def run(results):
            choice = build_threshold_rule(rule).choose(
                folder, split, plan.data.train_gt, settings.thresholds)
            write_json(osp.join(plan.root, name), choice.to_json())
            score = '' if choice.split_miou is None else \
                f', mIoU {choice.split_miou * 100:.2f}'
            return dict(
                choice.to_json(),
                note=f'{choice.threshold:.3f} ({choice.rule}, '
                f'{choice.num_masks} masks read{score})')

        return self._add(
            label, f'threshold {split}', prefix, [name],
            lambda results: dict(
                maps=read_meta(folder),
                threshold_rule=rule,
                thresholds=list(settings.thresholds)), run)

    def _evaluate(self, label: str, tag: str, prefix: str, split: str,
                  gt_dir: str, threshold: str) -> str:
        folder = osp.join(self.plan.root, f'maps{tag}_{split}')
        name = f'eval_maps{tag}_{split}.json'

        def run(results):
            result = evaluate_maps(folder, gt_dir, split,
                                   [results[threshold]['threshold']])
            result.log()
            result.dump(osp.join(self.plan.root, name))
            return dict(miou=result.best_miou,
                        note=f'mIoU {result.best_miou * 100:.2f} at '
                        f'threshold {result.best_threshold:.2f}')

        return self._add(
            label, f'evaluate maps {split}', prefix, [name],
            lambda results: dict(maps=read_meta(folder), gt=gt_dir,
                                 threshold=results[threshold]['threshold']),
            run)

    def _labels(self, label: str, what: str, prefix: str, out_dir: str,
                map_dir: str, labeler: Callable[[Results], dict],
                gt_dir: Optional[str]) -> str:
        """The label folder ``out_dir`` (:func:`~mmadv.pseudo_labels.
        write_pseudo_labels`) of the training maps ``map_dir`` by
        ``labeler(results)``, scored against ``gt_dir``; whole when it
        holds every training image's PNG."""
        plan, settings = self.plan, self.plan.settings

        def inputs(results):
            return dict(maps=read_meta(map_dir),
                        **build_labeler(labeler(results)).settings())

        def run(results):
            summary = write_pseudo_labels(
                map_dir, plan.data.images.img_dir, out_dir,
                settings.train_split, labeler(results), settings.workers,
                gt_dir, plan.data.images.img_suffix, out_dir + '.json',
                settings.max_pixels)
            miou = summary['mIoU']
            return dict(
                miou=miou, made_from=inputs(results),
                note=f'{summary["written"]} written, '
                f'{summary["skipped"]} kept' + (
                    f', mIoU {miou * 100:.2f}' if miou is not None else ''))

        return self._add(
            label, what, prefix, [osp.basename(out_dir)], inputs, run,
            lambda results, result: not missing_files(
                out_dir, plan.data.train_names, '.png'))

    def _test(self, label: str, tag: str, prefix: str, seg: str) -> str:
        work_dir = osp.join(self.plan.root, f'seg{tag}_test')
        trained = self.plan.seg[tag]

        def run(results):
            self.launcher('mmadv.engine.training:test_from_file',
                          config=trained.config,
                          checkpoint=results[seg]['checkpoint'],
                          work_dir=work_dir, progress=self.progress)
            with open(osp.join(work_dir, 'test_metrics.json')) as f:
                # mmseg's IoUMetric reports percent; rows hold fractions
                miou = json.load(f)['mIoU'] / 100
            return dict(miou=miou, note=f'mIoU {miou * 100:.2f}')

        return self._add(
            label, 'test segmentation', prefix, [f'seg{tag}_test'],
            lambda results: dict(
                weights=results[seg]['sha256'],
                config=config_digest(trained.cfg, self.plan.root)), run)

    # ------------------------------------------------------------- rows
    def _row(self, label: str, tag: str, refinement: Optional[Refinement],
             stage1: str, make: Callable, model: Optional[str] = None
             ) -> None:
        """The steps of a row from its maps on (``make``), and how the row
        is read from their results."""
        plan, settings, data = self.plan, self.plan.settings, self.plan.data
        prefix = f'{refinement.key}_' if refinement else ''
        train, scored = settings.train_split, settings.eval_split
        self._maps(label, tag, prefix, train, make)
        # the refinement's own rule (a paper's protocol), else the setting
        rule_cfg = (refinement and refinement.threshold_rule()) or \
            settings.threshold_rule
        threshold = self._threshold(label, tag, prefix, rule_cfg)
        # the mask sweep scores the training split on the way
        rule = build_threshold_rule(rule_cfg)
        evaluations = {}
        if data.train_scored and not getattr(rule, 'scores_split', False):
            evaluations[train] = self._evaluate(label, tag, prefix, train,
                                                data.train_gt, threshold)
        self._maps(label, tag, prefix, scored, make)
        if data.scored:
            evaluations[scored] = self._evaluate(label, tag, prefix, scored,
                                                 data.eval_gt, threshold)
        out_dir = plan.seg[tag].labels
        labels = self._labels(
            label, 'pseudo-labels', prefix, out_dir,
            osp.join(plan.root, f'maps{tag}_{train}'),
            lambda results: threshold_labeler(
                results[threshold]['threshold'], settings.uncertain,
                settings.crf),
            data.train_gt if data.train_scored else None)
        seg = self._train(label, 'segmentation', prefix, f'seg{tag}',
                          plan.seg[tag], labels)
        test = self._test(label, tag, prefix, seg) if data.scored else None

        def row(results: Results) -> Row:
            choice = results[threshold]
            map_miou = {split: None for split in (train, scored)}
            if data.train_scored and choice['split_miou'] is not None:
                map_miou[train] = choice['split_miou']
            for split, title in evaluations.items():
                map_miou[split] = results[title]['miou']
            return Row(
                name=label, config=plan.config,
                refinement=refinement.key if refinement else None,
                work_dir=plan.root, data_root=data.root,
                img_dir=data.images.img_dir,
                img_suffix=data.images.img_suffix, train_split=train,
                eval_split=scored, seed=plan.seed,
                settings=settings.to_dict(),
                stage1_checkpoint=results[stage1]['checkpoint'],
                model_checkpoint=results[model]['checkpoint']
                if model else None,
                map_dirs={split: osp.join(plan.root, f'maps{tag}_{split}')
                          for split in (train, scored)},
                map_miou=map_miou, bg_threshold=choice['threshold'],
                threshold_rule=choice['rule'], pseudo_labels=out_dir,
                pseudo_label_miou=results[labels]['miou'],
                seg_checkpoint=results[seg]['checkpoint'],
                seg_miou=results[test]['miou'] if test else None,
                step_seconds={}, versions=library_versions())

        self.rows[label] = row
