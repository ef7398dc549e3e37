"""The whole WSSS pipeline, in order, for one or more stage-1 configs.

For each CONFIG (e.g. the baseline CAM and the adversarial erasing config)
under ``<work-dir>/<config name>/``:

0. ``configs/``: the stage-1 and segmentation configs with every override
   merged (``stage1.py``, ``seg.py``) and the pipeline settings
   (``pipeline.json``); every step runs these files. A rerun with other
   configs, overrides, settings or seed is refused, so that no step
   reuses outputs made otherwise;
1. ``stage1/``: train the classifier (``tools/train.py``; resumed if cut);
2. ``maps_<split>/``: attention maps of the training split and of the
   evaluation split (``tools/infer_cam.py``);
3. ``eval_maps_<split>.json``: map mIoU against GT with a background
   threshold sweep (``tools/eval_cam.py``); the threshold is chosen on the
   training split and reused for the evaluation split;
4. ``pseudo_labels_<train split>/``: VOC-format pseudo-labels of the
   training split at that threshold (``tools/make_pseudo_labels.py``);
5. ``seg/``, ``seg_test/``: the segmentation network trained on them and
   tested on the real masks of the evaluation split
   (``tools/train.py``/``tools/test.py`` with ``seg_config``).

Every step is skipped when its output is complete (a training when its
final checkpoint is the one ``last_checkpoint`` names), so an interrupted
run continues where it stopped. At the end a table (map, pseudo-label and
segmentation mIoU per config, in %) is printed and ``<work-dir>/
metrics.json`` written (the same numbers as fractions, the settings and
where every output is).

Settings (``DEFAULTS`` below) come from the stage-1 config's optional
``wsss_pipeline`` dict and can be overridden with ``--pipeline-options
key=value``:

- ``seg_config``: the segmentation config (a path relative to the current
  directory or to this repository);
- ``train_split`` / ``eval_split``: image lists
  ``ImageSets/Segmentation/<split>.txt``;
- ``train_gt_dir`` / ``eval_gt_dir``: their mask folders, to choose the
  threshold on the training split and to score;
- ``scales``, ``flip``: map inference (``tools/infer_cam.py``);
- ``thresholds``: the sweep (None: ``tools/eval_cam.py``'s 0.05-0.60);
- ``crf``, ``uncertain``, ``workers``: ``tools/make_pseudo_labels.py``;
- ``seg_cfg_options``: overrides of the segmentation config;
- ``random_walk``: None, or the AffinityNet config (a path, or a dict with
  ``config`` and any of ``RANDOM_WALK_DEFAULTS``): then PSA's refinement
  also runs (affinity labels of the training maps,
  ``make_pseudo_labels.py --affinity``; AffinityNet training under
  ``affinity/``; refined maps ``maps_rw_<split>/`` by
  ``tools/infer_random_walk.py``) and steps 3-5 on the refined maps give a
  second row, ``<config> + random walk``; ``--affinity-cfg-options``
  overrides the AffinityNet config.

Example::

    python tools/run_pipeline.py configs/cam_r38_voc.py \\
        configs/adv_erase_r38_voc.py --work-dir work_dirs/voc_pipeline
"""
import argparse
import glob
import json
import logging
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Callable, Dict, Tuple

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from prettytable import PrettyTable

import mmadv  # noqa: F401
from mmadv.utils import atomic_path

TOOLS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TOOLS)
DEFAULTS = dict(
    seg_config='configs/deeplabv3plus_r101-d8_voc12aug-pseudo.py',
    train_split='train_aug',
    eval_split='val',
    train_gt_dir='SegmentationClassAug',
    eval_gt_dir='SegmentationClass',
    scales=[0.5, 1.0, 1.5, 2.0],
    flip=True,
    thresholds=None,
    crf=False,
    uncertain=None,
    workers=2,
    seg_cfg_options={},
    random_walk=None)
# random_walk=<AffinityNet config> or a dict of these (PSA's values)
RANDOM_WALK_DEFAULTS = dict(
    config=None,
    affinity_alphas=[4, 32],
    crf=True,
    crf_scale=1.0,
    bg_alpha=16,
    beta=8,
    logt=8,
    cfg_options={})
# settings that must be lists (or None where marked)
LIST_SETTINGS = dict(scales=False, thresholds=True, uncertain=True)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class Step:
    """Runs the tools as subprocesses (as a user would), timed and logged;
    with ``gpus > 1`` through ``torchrun --standalone``."""

    def __init__(self, gpus: int):
        self.gpus = gpus

    def __call__(self, name, script, *args, distributed=False,
                 launcher=False):
        """Run ``tools/<script> args``; ``distributed``: one process per
        GPU, ``launcher``: the tool takes ``--launcher pytorch`` then."""
        cmd = [sys.executable]
        parallel = distributed and self.gpus > 1
        if parallel:
            cmd += ['-m', 'torch.distributed.run', '--standalone',
                    f'--nproc_per_node={self.gpus}']
        cmd += [osp.join(TOOLS, script), *map(str, args)]
        if parallel and launcher:
            cmd += ['--launcher', 'pytorch']
        print_log(f'[{name}] {shlex.join(cmd)}', logger='current')
        start = time.time()
        result = subprocess.run(cmd)
        if result.returncode != 0:
            raise SystemExit(f'[{name}] failed (exit {result.returncode}): '
                             f'{shlex.join(cmd)}')
        print_log(f'[{name}] done in {time.time() - start:.0f} s',
                  logger='current')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def load_config(path: str, options: dict = None) -> Config:
    """A config with ``options`` merged; a one-line exit when missing."""
    if not osp.isfile(path):
        raise SystemExit(f'error: config {path} not found')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    if cfg.get('train_cfg', {}).get('max_iters') is None:
        raise SystemExit(f'error: {path}: the pipeline needs an '
                         'iteration-based train_cfg (train_cfg.max_iters)')
    return cfg


def pipeline_settings(cfg: Config, config: str, overrides: dict) -> dict:
    """``DEFAULTS`` updated by ``cfg.wsss_pipeline`` and ``overrides``,
    checked: known keys, lists where lists belong, distinct splits, and
    ``seg_config`` found (relative to the current directory, else to the
    repository)."""
    settings = dict(DEFAULTS)
    for source, values in ((f'{config}: wsss_pipeline',
                            cfg.get('wsss_pipeline', {})),
                           ('--pipeline-options', overrides or {})):
        unknown = sorted(set(values) - set(DEFAULTS))
        if unknown:
            raise SystemExit(f'error: {source}: unknown settings {unknown} '
                             f'(known: {sorted(DEFAULTS)})')
        settings.update(values)
    for key, may_be_none in LIST_SETTINGS.items():
        value = settings[key]
        if not (isinstance(value, (list, tuple)) or
                (may_be_none and value is None)):
            raise SystemExit(f'error: setting {key} must be a list'
                             f'{" or None" if may_be_none else ""}, got '
                             f'{value!r}')
    if settings['train_split'] == settings['eval_split']:
        raise SystemExit('error: train_split and eval_split are both '
                         f'{settings["train_split"]!r}')
    settings['seg_config'] = resolve_config(settings['seg_config'],
                                            'seg_config')
    walk = settings['random_walk']
    if walk:
        if isinstance(walk, str):  # random_walk=path/to/affinity_config.py
            walk = dict(config=walk)
        unknown = sorted(set(walk) - set(RANDOM_WALK_DEFAULTS))
        if unknown or not walk.get('config'):
            raise SystemExit(
                f'error: random_walk needs a config and knows '
                f'{sorted(RANDOM_WALK_DEFAULTS)}, got {dict(walk)}')
        walk = dict(RANDOM_WALK_DEFAULTS, **walk)
        logt, crf_scale = walk['logt'], walk['crf_scale']
        if not (isinstance(logt, int) and logt >= 0):
            raise SystemExit('error: random_walk.logt must be an integer '
                             f'>= 0, got {logt!r}')
        if not (isinstance(crf_scale, (int, float)) and crf_scale > 0):
            raise SystemExit('error: random_walk.crf_scale must be > 0, got '
                             f'{crf_scale!r}')
        walk['config'] = resolve_config(walk['config'], 'random_walk.config')
        settings['random_walk'] = walk
    return settings


def freeze(root: str, filename: str, text: str, what: str) -> str:
    """Write ``<root>/configs/<filename>`` once; refuse a different text
    later. Returns the path."""
    path = osp.join(root, 'configs', filename)
    if osp.isfile(path):
        with open(path) as f:
            if f.read() != text:
                raise SystemExit(
                    f'error: {root} was made with another {what} '
                    f'({path}); choose another --work-dir or delete it')
        return path
    os.makedirs(osp.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)
    return path


def freeze_config(root: str, filename: str, cfg: Config, what: str) -> str:
    """:func:`freeze` of a merged config's text."""
    return freeze(root, filename, cfg.pretty_text, what)


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


def train(step, label: str, config: str, work_dir: str,
          max_iters: int) -> str:
    """Train ``config`` into ``work_dir`` unless done (resuming a cut
    run); the final checkpoint."""
    checkpoint = osp.join(work_dir, f'iter_{max_iters}.pth')
    if not training_done(work_dir, max_iters):
        resume = ['--resume'] if glob.glob(
            osp.join(work_dir, 'iter_*.pth')) else []
        step(label, 'train.py', config, '--work-dir', work_dir, *resume,
             distributed=True, launcher=True)
    return checkpoint


def maps_done(folder: str) -> bool:
    meta = osp.join(folder, 'meta.json')
    return osp.isfile(meta) and len(glob.glob(osp.join(
        folder, '*.npz'))) >= read_json(meta)['num_images']


def unwrap_dataset(dataset: dict) -> dict:
    """The innermost dataset of ``RepeatDataset``-style wrappers."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def resolve_config(path: str, field: str) -> str:
    """``path`` relative to the current directory, else to the repository;
    a one-line exit naming ``field`` when neither exists."""
    if osp.isfile(path):
        return path
    in_repo = osp.join(REPO, path)
    if not osp.isfile(in_repo):
        raise SystemExit(f'error: {field} {path} not found (tried the '
                         f'current directory and {REPO})')
    return in_repo


def seg_config_for(root: str, tag: str, data_root: str, settings: dict,
                   args) -> Tuple[str, Config, str]:
    """The pseudo-label folder ``pseudo_labels<tag>_<train split>`` and the
    merged, frozen segmentation config ``configs/seg<tag>.py`` that trains
    on it (and tests on the eval split's masks)."""
    train_split, eval_split = settings['train_split'], settings['eval_split']
    pseudo = osp.join(root, f'pseudo_labels{tag}_{train_split}')
    split_file = 'ImageSets/Segmentation/{}.txt'.format
    seg_options = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.ann_file': split_file(train_split),
        'train_dataloader.dataset.data_prefix.seg_map_path': pseudo,
    }
    for loader in LOADERS[1:]:
        seg_options.update({
            f'{loader}.dataset.data_root': data_root,
            f'{loader}.dataset.ann_file': split_file(eval_split),
            f'{loader}.dataset.data_prefix.seg_map_path': osp.join(
                data_root, settings['eval_gt_dir'])
        })
    seg_options.update(settings['seg_cfg_options'])
    seg_options.update(args.seg_cfg_options or {})
    if args.seed is not None:
        seg_options['randomness.seed'] = args.seed
    seg_cfg = load_config(settings['seg_config'], seg_options)
    return pseudo, seg_cfg, freeze_config(root, f'seg{tag}.py', seg_cfg,
                                          'segmentation config')


def maps_to_segmentation(step, label: str, root: str, tag: str,
                         make_maps: Callable[[str, str], None],
                         settings: dict, data: dict, seg: tuple) -> dict:
    """Steps 2-5 for the maps ``maps<tag>_<split>`` (``make_maps(split,
    folder)`` writes them unless complete): their evaluation (threshold
    chosen on the train split), pseudo-labels, segmentation training and
    test. Returns the metrics."""
    train_split, eval_split = settings['train_split'], settings['eval_split']
    pseudo, seg_cfg, seg_config = seg
    metrics = dict(map_dirs={})
    for split, gt_dir in ((train_split, data['train_gt']),
                          (eval_split, data['eval_gt'])):
        maps = osp.join(root, f'maps{tag}_{split}')
        if not maps_done(maps):
            make_maps(split, maps)
        metrics['map_dirs'][split] = maps
        result = osp.join(root, f'eval_maps{tag}_{split}.json')
        if not osp.isfile(result):
            thresholds = settings['thresholds']
            if split == eval_split:
                thresholds = [metrics['bg_threshold']]
            step(f'{label}: evaluate maps {split}', 'eval_cam.py', maps,
                 '--gt-dir', gt_dir, '--split', split, '--json', result,
                 *(['--thresholds', *thresholds] if thresholds else []))
        evaluation = read_json(result)
        metrics[f'map_miou_{split}'] = evaluation['best']['mIoU']
        if split == train_split:
            metrics['bg_threshold'] = evaluation['best']['threshold']

    summary = osp.join(root, f'pseudo_labels{tag}_{train_split}.json')
    if not osp.isfile(summary):
        step(f'{label}: pseudo-labels', 'make_pseudo_labels.py',
             osp.join(root, f'maps{tag}_{train_split}'), '--img-dir',
             data['img_dir'], '--img-suffix', data['img_suffix'],
             '--out-dir', pseudo, '--split', train_split, '--bg-threshold',
             metrics['bg_threshold'], '--workers', settings['workers'],
             '--gt-dir', data['train_gt'], '--json', summary,
             *(['--crf'] if settings['crf'] else []),
             *(['--uncertain', *settings['uncertain']]
               if settings['uncertain'] else []))
    metrics['pseudo_label_miou'] = read_json(summary).get('mIoU')

    seg_checkpoint = train(step, f'{label}: segmentation', seg_config,
                           osp.join(root, f'seg{tag}'),
                           seg_cfg.train_cfg.max_iters)
    seg_test = osp.join(root, f'seg{tag}_test')
    if not osp.isfile(osp.join(seg_test, 'test_metrics.json')):
        step(f'{label}: test segmentation', 'test.py', seg_config,
             seg_checkpoint, '--work-dir', seg_test, distributed=True,
             launcher=True)
    # mmseg's IoUMetric reports percent; metrics.json holds fractions
    metrics['seg_miou'] = read_json(osp.join(
        seg_test, 'test_metrics.json'))['mIoU'] / 100
    metrics.update(seg_checkpoint=seg_checkpoint, pseudo_labels=pseudo)
    return metrics


def run_config(config, args, step) -> Dict[str, dict]:
    """All steps for one stage-1 config; its rows of metrics: ``<name>``
    and, with ``random_walk``, ``<name> + random walk``."""
    cfg = load_config(config, args.cfg_options)
    settings = pipeline_settings(cfg, config, args.pipeline_options)
    dataset = unwrap_dataset(cfg.train_dataloader.dataset)
    data_root = osp.abspath(args.data_root or dataset.data_root)
    if not osp.isdir(data_root):
        raise SystemExit(
            f'error: data root {data_root} not found (train_dataloader.'
            f'dataset.data_root of {config}, or --data-root)')
    name = osp.splitext(osp.basename(config))[0]
    root = osp.abspath(osp.join(args.work_dir, name))
    train_split = settings['train_split']
    data = dict(
        train_gt=osp.join(data_root, settings['train_gt_dir']),
        eval_gt=osp.join(data_root, settings['eval_gt_dir']),
        img_dir=osp.join(data_root, dataset.data_prefix['img_path']),
        img_suffix=dataset.get('img_suffix', '.jpg'))

    # the merged configs and settings every step uses
    stage1_options = {f'{loader}.dataset.data_root': data_root
                      for loader in LOADERS}
    if args.seed is not None:
        stage1_options['randomness.seed'] = args.seed
    cfg.merge_from_dict(stage1_options)
    stage1_config = freeze_config(root, 'stage1.py', cfg, 'stage-1 config')
    seg = seg_config_for(root, '', data_root, settings, args)
    freeze(root, 'pipeline.json',
           json.dumps(dict(settings, seed=args.seed), indent=2,
                      sort_keys=True), 'pipeline settings')
    common = dict(
        config=config,
        work_dir=root,
        data_root=data_root,
        seed=args.seed,
        **settings)

    # 1. stage 1
    checkpoint = train(step, f'{name}: stage 1', stage1_config,
                       osp.join(root, 'stage1'), cfg.train_cfg.max_iters)

    # 2.-5. maps, their evaluation, pseudo-labels, segmentation
    def stage1_maps(split, folder):
        step(f'{name}: maps {split}', 'infer_cam.py', stage1_config,
             checkpoint, '--split', split, '--out-dir', folder, '--scales',
             *settings['scales'],
             *([] if settings['flip'] else ['--no-flip']),
             distributed=True)

    rows = {
        name:
        dict(
            common,
            stage1_checkpoint=checkpoint,
            **maps_to_segmentation(step, name, root, '', stage1_maps,
                                   settings, data, seg))
    }
    walk = settings['random_walk']
    if not walk:
        if args.affinity_cfg_options:
            print_log(f'{name}: no random_walk setting, '
                      '--affinity-cfg-options unused', logger='current',
                      level=logging.WARNING)
        return rows

    # random walk: affinity labels of the training maps, AffinityNet,
    # refined maps of both splits, then steps 2-5 on them
    label = f'{name} + random walk'
    affinity_labels = osp.join(root, f'affinity_labels_{train_split}')
    summary = affinity_labels + '.json'
    if not osp.isfile(summary):
        step(f'{label}: affinity labels', 'make_pseudo_labels.py',
             osp.join(root, f'maps_{train_split}'), '--img-dir',
             data['img_dir'], '--img-suffix', data['img_suffix'],
             '--out-dir', affinity_labels, '--split', train_split,
             '--affinity', *walk['affinity_alphas'], '--workers',
             settings['workers'], '--json', summary,
             *(['--crf', '--crf-scale', walk['crf_scale']]
               if walk['crf'] else []))
    affinity_options = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.ann_file':
        f'ImageSets/Segmentation/{train_split}.txt',
        'train_dataloader.dataset.data_prefix.seg_map_path': affinity_labels,
        **walk['cfg_options'],
        **(args.affinity_cfg_options or {})
    }
    if args.seed is not None:
        affinity_options['randomness.seed'] = args.seed
    affinity_cfg = load_config(walk['config'], affinity_options)
    affinity_config = freeze_config(root, 'affinity.py', affinity_cfg,
                                    'AffinityNet config')
    affinity_checkpoint = train(step, f'{label}: AffinityNet',
                                affinity_config, osp.join(root, 'affinity'),
                                affinity_cfg.train_cfg.max_iters)

    def walked_maps(split, folder):
        step(f'{label}: maps {split}', 'infer_random_walk.py',
             affinity_config, affinity_checkpoint,
             osp.join(root, f'maps_{split}'), '--split', split, '--out-dir',
             folder, '--bg-alpha', walk['bg_alpha'], '--beta', walk['beta'],
             '--logt', walk['logt'], distributed=True)

    seg_rw = seg_config_for(root, '_rw', data_root, settings, args)
    rows[label] = dict(
        common,
        stage1_checkpoint=checkpoint,
        affinity_checkpoint=affinity_checkpoint,
        **maps_to_segmentation(step, label, root, '_rw', walked_maps,
                               settings, data, seg_rw))
    return rows


def summary_table(results: dict) -> str:
    """One row per config: mIoU (%) of the maps on both splits, the
    threshold, the pseudo-labels and the segmentation."""
    table = PrettyTable()
    table.field_names = [
        'config', 'maps mIoU (train)', 'maps mIoU (eval)', 'bg threshold',
        'pseudo-labels mIoU', 'segmentation mIoU (eval)'
    ]

    def fmt(value):
        return '-' if value is None else f'{value * 100:.2f}'

    for name, m in results.items():
        table.add_row([
            name,
            fmt(m[f'map_miou_{m["train_split"]}']),
            fmt(m[f'map_miou_{m["eval_split"]}']),
            f'{m["bg_threshold"]:.2f}',
            fmt(m['pseudo_label_miou']),
            fmt(m['seg_miou'])
        ])
    return table.get_string()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='stage-1 configs')
    parser.add_argument('--work-dir', default='work_dirs/pipeline')
    parser.add_argument('--data-root', help='override the configs\' root')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per step (torchrun) when > 1')
    parser.add_argument('--seed', type=int,
                        help='randomness.seed of both trainings')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='stage-1 config overrides')
    parser.add_argument('--seg-cfg-options', nargs='+', action=DictAction,
                        help='segmentation config overrides')
    parser.add_argument('--affinity-cfg-options', nargs='+',
                        action=DictAction,
                        help='AffinityNet config overrides (with '
                        'random_walk)')
    parser.add_argument('--pipeline-options', nargs='+', action=DictAction,
                        help='wsss_pipeline overrides, e.g. crf=True')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    names = [osp.splitext(osp.basename(c))[0] for c in args.configs]
    if len(set(names)) < len(names):
        raise SystemExit(f'error: configs share a name ({names}): each '
                         'gets <work-dir>/<name>')
    step = Step(args.gpus)
    results = {}
    for config in args.configs:
        results.update(run_config(config, args, step))
    os.makedirs(args.work_dir, exist_ok=True)
    metrics_file = osp.join(args.work_dir, 'metrics.json')
    with atomic_path(metrics_file) as tmp:
        with open(tmp, 'w') as f:
            json.dump(results, f, indent=2)
    print_log('\n' + summary_table(results), logger='current')
    print_log(f'metrics: {osp.abspath(metrics_file)}', logger='current')
    for name, m in results.items():
        print_log(f'{name}: stage-1 checkpoint {m["stage1_checkpoint"]}, '
                  f'pseudo-labels {m["pseudo_labels"]}/, segmentation '
                  f'checkpoint {m["seg_checkpoint"]}', logger='current')
    return results


if __name__ == '__main__':
    main()
