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
    [<row>]  test segmentation           seg<tag>_test/ (single-scale)
    [<row>]  test segmentation (<p>)     seg<tag>_test_<p>/ (other protocols)

for the row ``<name>`` (the thresholded maps, tag '') and, for each
refinement, the row ``<name><refinement.row>`` (tag ``refinement.tag``),
whose maps are the refinement's of the first row's maps, and which
trains its model first when it has one::

    [<row>]  <refinement.labels>         <labels>_<train split>/
    [<row>]  <refinement.network>        <refinement.model>/

With ``self_training`` rounds, each row's round ``n`` (tag
``<tag>_st<n>``) labels the training split with the segmentation network
before it, under ``self_training_protocol``, and trains another, the row
``<row> + self-training`` (``x<n>`` from the second)::

    [<st row>]  predictions <train split>  seg<tag>_pred_<train split>/
    [<st row>]  pseudo-labels              pseudo_labels<tag>_st<n>_<split>/
    [<st row>]  segmentation, its tests    seg<tag>_st<n>/, ...

and with ``full_supervision`` the row ``<name> full supervision`` trains
and tests the segmentation config on the training masks (``seg_full/``).
Without evaluation masks, the steps that score are left out.
"""
import glob
import json
import os.path as osp
import re
from typing import Callable, Dict, List, Optional

from ..datasets.layout import missing_files, split_file
from ..datasets.map_io import read_meta, write_meta
from ..datasets.prediction_io import FORMAT as PREDICTIONS
from ..engine.seg_protocols import SEG_PROTOCOLS
from ..engine.training import last_checkpoint
from ..evaluation.map_evaluation import evaluate_maps
from ..evaluation.threshold_rules import build_threshold_rule
from ..pseudo_labels.label_folder import write_pseudo_labels
from ..pseudo_labels.labeling import build_labeler
from ..refinements import Refinement
from ..structures.labels import IGNORE_INDEX
from ..utils.atomic import write_json
from ..utils.provenance import file_sha256, library_versions
from .launcher import Launcher
from .plan import FULL_TAG, ConfigPlan, Trained, self_training_tag
from .records import config_digest
from .rows import FULL, SELF_TRAINING, Row
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
        if settings.full_supervision:
            self._full_supervision()
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

    def _tests(self, label: str, tag: str, prefix: str,
               seg: str) -> Dict[str, str]:
        """The tests of the segmentation network of step ``seg`` under each
        protocol of the settings (none without evaluation masks), by
        protocol."""
        if not self.plan.data.scored:
            return {}
        return {key: self._test(label, tag, prefix, seg, key)
                for key in self.plan.settings.seg_protocols}

    def _test(self, label: str, tag: str, prefix: str, seg: str,
              protocol: str) -> str:
        single = protocol == 'single-scale'
        folder = f'seg{tag}_test' + ('' if single else f'_{protocol}')
        work_dir = osp.join(self.plan.root, folder)
        trained = self.plan.seg[tag]

        def run(results):
            self.launcher('mmadv.engine.training:test_from_file',
                          config=trained.config,
                          checkpoint=results[seg]['checkpoint'],
                          work_dir=work_dir, progress=self.progress,
                          protocol=protocol)
            with open(osp.join(work_dir, 'test_metrics.json')) as f:
                # mmseg's IoUMetric reports percent; rows hold fractions
                miou = json.load(f)['mIoU'] / 100
            return dict(miou=miou, note=f'mIoU {miou * 100:.2f}')

        def inputs(results):
            made = dict(weights=results[seg]['sha256'],
                        config=config_digest(trained.cfg, self.plan.root))
            # single-scale records as before there were protocols
            return made if single else dict(made, protocol=protocol)

        return self._add(
            label, 'test segmentation' + (
                '' if single else f' ({SEG_PROTOCOLS[protocol].title})'),
            prefix, [folder], inputs, run)

    def _predictions(self, label: str, tag: str, prefix: str,
                     seg: str) -> str:
        """The predictions (:mod:`~mmadv.datasets.prediction_io`) of the
        segmentation network of step ``seg`` (row tag ``tag``) on the
        training split, under ``self_training_protocol``."""
        plan, settings = self.plan, self.plan.settings
        split, protocol = settings.train_split, \
            settings.self_training_protocol
        folder = f'seg{tag}_pred_{split}'
        out_dir = osp.join(plan.root, folder)
        trained = plan.seg[tag]

        def inputs(results):
            return dict(weights=results[seg]['sha256'], split=split,
                        protocol=protocol,
                        config=config_digest(trained.cfg, plan.root))

        def run(results):
            self.launcher(
                'mmadv.engine.training:predict_from_file',
                config=trained.config, checkpoint=results[seg]['checkpoint'],
                split_file=split_file(split), out_dir=out_dir,
                work_dir=osp.join(plan.root, f'seg{tag}_predict'),
                protocol=protocol, progress=self.progress)
            write_meta(out_dir, format=PREDICTIONS, split=split,
                       ann_file=osp.join(plan.data.root, split_file(split)),
                       num_images=len(plan.data.train_names),
                       **plan.data.metainfo, made_from=inputs(results))
            return dict(note=f'{len(plan.data.train_names)} predictions '
                        f'({SEG_PROTOCOLS[protocol].title})')

        return self._add(
            label, f'predictions {split}', prefix, [folder], inputs, run,
            lambda results, result: not missing_files(
                out_dir, plan.data.train_names, '.npz'))

    # ------------------------------------------------------------- rows
    def _row(self, label: str, tag: str, refinement: Optional[Refinement],
             stage1: str, make: Callable, model: Optional[str] = None
             ) -> None:
        """The steps of a row from its maps on (``make``), then those of its
        self-training rounds, and how the rows are read from their
        results."""
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
        labels = self._labels(
            label, 'pseudo-labels', prefix, plan.seg[tag].labels,
            osp.join(plan.root, f'maps{tag}_{train}'),
            lambda results: threshold_labeler(
                results[threshold]['threshold'], settings.uncertain,
                settings.crf),
            data.train_gt if data.train_scored else None)
        seg = self._train(label, 'segmentation', prefix, f'seg{tag}',
                          plan.seg[tag], labels)
        protocol = self._protocol(tag, rule_cfg)

        def maps_fields(results: Results) -> dict:
            choice = results[threshold]
            map_miou = {split: None for split in (train, scored)}
            if data.train_scored and choice['split_miou'] is not None:
                map_miou[train] = choice['split_miou']
            for split, title in evaluations.items():
                map_miou[split] = results[title]['miou']
            return dict(
                refinement=refinement.key if refinement else None,
                stage1_checkpoint=results[stage1]['checkpoint'],
                model_checkpoint=results[model]['checkpoint']
                if model else None,
                map_dirs={split: osp.join(plan.root, f'maps{tag}_{split}')
                          for split in (train, scored)},
                map_miou=map_miou, bg_threshold=choice['threshold'],
                threshold_rule=choice['rule'])

        self._read_row(label, tag, prefix, labels, seg, protocol,
                       maps_fields)
        last = (tag, seg)
        for number in range(1, settings.self_training + 1):
            last = self._self_training(label, tag, *last, number, prefix,
                                       protocol, maps_fields)

    def _self_training(self, label: str, tag: str, last_tag: str,
                       last_seg: str, number: int, prefix: str,
                       protocol: dict, parent_fields: Callable) -> tuple:
        """The steps and row of self-training round ``number`` of the row
        ``label`` (tag ``tag``), whose network before is that of tag
        ``last_tag`` and step ``last_seg``: the round's tag and network
        step."""
        plan, settings, data = self.plan, self.plan.settings, self.plan.data
        label_n = f'{label} + self-training' + (
            f' x{number}' if number > 1 else '')
        tag_n = self_training_tag(tag, number)
        prefix = f'{prefix}st{number}_'
        self._predictions(label_n, last_tag, prefix, last_seg)
        labels = self._labels(
            label_n, 'pseudo-labels', prefix, plan.seg[tag_n].labels,
            osp.join(plan.root,
                     f'seg{last_tag}_pred_{settings.train_split}'),
            lambda results: dict(type='ArgmaxLabeler',
                                 uncertain=settings.self_training_uncertain),
            data.train_gt if data.train_scored else None)
        seg_n = self._train(label_n, 'segmentation', prefix, f'seg{tag_n}',
                            plan.seg[tag_n], labels)
        key = settings.self_training_protocol
        # the round's network is tested as its row's (one config file)
        protocol_n = dict(
            protocol, self_training=dict(
                round=number, protocol=SEG_PROTOCOLS[key].title,
                uncertain=settings.to_dict()['self_training_uncertain']))

        def fields(results: Results) -> dict:
            return dict(parent_fields(results), map_dirs={}, map_miou={},
                        bg_threshold=None,
                        threshold_rule=f'argmax ({SEG_PROTOCOLS[key].title})',
                        labels_from=SELF_TRAINING)

        self._read_row(label_n, tag_n, prefix, labels, seg_n, protocol_n,
                       fields)
        return tag_n, seg_n

    def _full_supervision(self) -> None:
        """The row ``<name> full supervision``: the segmentation config
        trained on the training masks and tested under each protocol."""
        plan = self.plan
        label = f'{plan.name} full supervision'
        seg = self._train(label, 'segmentation', 'full_', f'seg{FULL_TAG}',
                          plan.seg[FULL_TAG], None)
        protocol = dict(self._protocol(FULL_TAG, {}), full_supervision=True)
        self._read_row(
            label, FULL_TAG, 'full_', None, seg, protocol,
            lambda results: dict(
                refinement=None, stage1_checkpoint=None,
                model_checkpoint=None, map_dirs={}, map_miou={},
                bg_threshold=None, threshold_rule='masks',
                labels_from=FULL))

    def _protocol(self, tag: str, rule_cfg: dict) -> dict:
        """How the numbers of the row with ``tag`` are made (
        :attr:`~.rows.Row.protocol`)."""
        settings, data = self.plan.settings, self.plan.data
        return dict(
            train_split=settings.train_split,
            train_images=len(data.train_names),
            eval_split=settings.eval_split,
            eval_images=len(data.eval_names),
            map_scales=list(settings.scales), map_flip=settings.flip,
            threshold_rule=dict(rule_cfg), pseudo_label_crf=settings.crf,
            seg={key: SEG_PROTOCOLS[key].describe(self.plan.seg[tag].cfg)
                 for key in settings.seg_protocols} if data.scored else {},
            ignore_index=IGNORE_INDEX)

    def _read_row(self, label: str, tag: str, prefix: str,
                  labels: Optional[str], seg: str, protocol: dict,
                  fields: Callable) -> None:
        """Test the network of step ``seg`` (row tag ``tag``, trained on
        the labels of step ``labels``) under each protocol, and read the
        row ``label`` from the results: the fields every row has, and
        ``fields(results)``."""
        plan, settings, data = self.plan, self.plan.settings, self.plan.data
        tests = self._tests(label, tag, prefix, seg)

        def row(results: Results) -> Row:
            scores = {key: results[title]['miou']
                      for key, title in tests.items()}
            return Row(
                name=label, config=plan.config, work_dir=plan.root,
                data_root=data.root, img_dir=data.images.img_dir,
                img_suffix=data.images.img_suffix,
                train_split=settings.train_split,
                eval_split=settings.eval_split, seed=plan.seed,
                settings=settings.to_dict(),
                pseudo_labels=plan.seg[tag].labels,
                pseudo_label_miou=results[labels]['miou'] if labels
                else None,
                seg_checkpoint=results[seg]['checkpoint'],
                step_seconds={},
                versions=library_versions(), seg_scores=scores,
                protocol=protocol, **fields(results))

        self.rows[label] = row
