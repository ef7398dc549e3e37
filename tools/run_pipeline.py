"""The whole WSSS pipeline, in order, for one or more stage-1 configs.

For each CONFIG (e.g. the baseline CAM and the adversarial erasing config)
under ``<work-dir>/<config name>/``:

1. ``stage1/``: train the classifier (``tools/train.py``; resumed if cut);
2. ``maps_<split>/``: multi-scale attention maps of the training split and
   of the evaluation split (``tools/infer_cam.py``);
3. ``eval_maps_<split>.json``: map mIoU against GT with a background
   threshold sweep (``tools/eval_cam.py``); the threshold is chosen on the
   training split and reused for the evaluation split;
4. ``pseudo_labels_<split>/``: VOC-format pseudo-labels of the training
   split at that threshold (``tools/make_pseudo_labels.py``);
5. ``seg/``: the segmentation network trained on them and tested on the
   real masks of the evaluation split (``tools/train.py``/``tools/test.py``
   with the ``seg_config``).

Every step is skipped when its output already exists, so an interrupted run
continues where it stopped. At the end a table (map, pseudo-label and
segmentation mIoU per config) is printed and written to
``<work-dir>/metrics.json``.

Settings (``DEFAULTS`` below: the segmentation config, splits, GT folders,
inference scales, threshold sweep, CRF, uncertain band, workers) come from
the stage-1 config's optional ``wsss_pipeline`` dict and can be overridden
with ``--pipeline-options key=value``.

Example::

    python tools/run_pipeline.py configs/cam_r38_voc.py \\
        configs/adv_erase_r38_voc.py --work-dir work_dirs/voc_pipeline
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

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
    seg_cfg_options={})


class Step:
    """Runs the tools as subprocesses (as a user would), timed and logged.
    """

    def __init__(self, gpus: int):
        self.gpus = gpus

    def __call__(self, name, script, *args, distributed=False):
        cmd = [sys.executable]
        if distributed and self.gpus > 1:
            cmd += ['-m', 'torch.distributed.run',
                    f'--nproc_per_node={self.gpus}']
        cmd += [osp.join(TOOLS, script), *map(str, args)]
        if distributed and self.gpus > 1 and script != 'infer_cam.py':
            cmd += ['--launcher', 'pytorch']
        print_log(f'[{name}] {" ".join(cmd)}', logger='current')
        start = time.time()
        result = subprocess.run(cmd)
        if result.returncode != 0:
            raise SystemExit(f'[{name}] failed (exit {result.returncode}): '
                             f'{" ".join(cmd)}')
        print_log(f'[{name}] done in {time.time() - start:.0f} s',
                  logger='current')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def options_args(options: dict):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()
                                ] if options else []


def maps_done(folder: str) -> bool:
    meta = osp.join(folder, 'meta.json')
    return osp.isfile(meta) and len(glob.glob(osp.join(
        folder, '*.npz'))) >= read_json(meta)['num_images']


def run_config(config, args, step) -> dict:
    """All steps for one stage-1 config; returns its metrics."""
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    settings = dict(DEFAULTS, **cfg.get('wsss_pipeline', {}))
    settings.update(args.pipeline_options or {})
    if not osp.isfile(settings['seg_config']):  # relative to the repository
        settings['seg_config'] = osp.join(REPO, settings['seg_config'])
    data_root = osp.abspath(args.data_root or
                            cfg.train_dataloader.dataset.data_root)
    name = osp.splitext(osp.basename(config))[0]
    root = osp.abspath(osp.join(args.work_dir, name))
    stage1_options = dict(args.cfg_options or {})
    if args.seed is not None:
        stage1_options['randomness.seed'] = args.seed
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        stage1_options[f'{loader}.dataset.data_root'] = data_root
    stage1_args = options_args(stage1_options)
    train_split, eval_split = settings['train_split'], settings['eval_split']
    metrics = dict(
        config=config,
        work_dir=root,
        data_root=data_root,
        train_split=train_split,
        eval_split=eval_split,
        train_gt_dir=settings['train_gt_dir'],
        eval_gt_dir=settings['eval_gt_dir'])

    # 1. stage 1
    stage1_dir = osp.join(root, 'stage1')
    max_iters = cfg.train_cfg.max_iters
    checkpoint = osp.join(stage1_dir, f'iter_{max_iters}.pth')
    if not osp.isfile(checkpoint):
        resume = ['--resume'] if glob.glob(
            osp.join(stage1_dir, 'iter_*.pth')) else []
        step(f'{name}: stage 1', 'train.py', config, '--work-dir',
             stage1_dir, *resume, *stage1_args, distributed=True)

    # 2.-3. maps and their evaluation
    for split, gt_dir in ((train_split, settings['train_gt_dir']),
                          (eval_split, settings['eval_gt_dir'])):
        maps = osp.join(root, f'maps_{split}')
        if not maps_done(maps):
            step(f'{name}: maps {split}', 'infer_cam.py', config,
                 checkpoint, '--split', split, '--out-dir', maps,
                 '--scales', *settings['scales'],
                 *([] if settings['flip'] else ['--no-flip']),
                 *stage1_args, distributed=True)
        result = osp.join(root, f'eval_maps_{split}.json')
        if not osp.isfile(result):
            thresholds = settings['thresholds']
            if split == eval_split:  # the threshold chosen on training
                thresholds = [metrics['bg_threshold']]
            step(f'{name}: evaluate maps {split}', 'eval_cam.py', maps,
                 '--gt-dir', osp.join(data_root, gt_dir), '--split', split,
                 '--json', result,
                 *(['--thresholds', *thresholds] if thresholds else []))
        evaluation = read_json(result)
        metrics[f'map_miou_{split}'] = evaluation['best']['mIoU']
        if split == train_split:
            metrics['bg_threshold'] = evaluation['best']['threshold']

    # 4. pseudo-labels
    pseudo = osp.join(root, f'pseudo_labels_{train_split}')
    summary = osp.join(root, f'pseudo_labels_{train_split}.json')
    if not osp.isfile(summary):
        step(f'{name}: pseudo-labels', 'make_pseudo_labels.py',
             osp.join(root, f'maps_{train_split}'), '--img-dir',
             osp.join(data_root, 'JPEGImages'), '--out-dir', pseudo,
             '--split', train_split, '--bg-threshold',
             metrics['bg_threshold'], '--workers', settings['workers'],
             '--gt-dir', osp.join(data_root, settings['train_gt_dir']),
             '--json', summary,
             *(['--crf'] if settings['crf'] else []),
             *(['--uncertain', *settings['uncertain']]
               if settings['uncertain'] else []))
    metrics['pseudo_label_miou'] = read_json(summary).get('mIoU')

    # 5. segmentation network on the pseudo-labels
    seg_options = {
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.data_prefix.seg_map_path': pseudo,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        **settings['seg_cfg_options']
    }
    seg_options.update(args.seg_cfg_options or {})
    if args.seed is not None:
        seg_options['randomness.seed'] = args.seed
    seg_cfg = Config.fromfile(settings['seg_config'])
    seg_cfg.merge_from_dict(seg_options)
    seg_dir = osp.join(root, 'seg')
    seg_checkpoint = osp.join(seg_dir,
                              f'iter_{seg_cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(seg_checkpoint):
        resume = ['--resume'] if glob.glob(
            osp.join(seg_dir, 'iter_*.pth')) else []
        step(f'{name}: segmentation', 'train.py', settings['seg_config'],
             '--work-dir', seg_dir, *resume, *options_args(seg_options),
             distributed=True)
    seg_test = osp.join(root, 'seg_test')
    if not osp.isfile(osp.join(seg_test, 'test_metrics.json')):
        step(f'{name}: test segmentation', 'test.py',
             settings['seg_config'], seg_checkpoint, '--work-dir', seg_test,
             *options_args(seg_options), distributed=True)
    # mmseg's IoUMetric reports percent; metrics.json holds fractions
    metrics['seg_miou'] = read_json(osp.join(
        seg_test, 'test_metrics.json'))['mIoU'] / 100
    metrics.update(stage1_checkpoint=checkpoint, seg_checkpoint=seg_checkpoint,
                   pseudo_labels=pseudo)
    return metrics


def summary_table(results: dict, train_split: str, eval_split: str) -> str:
    table = PrettyTable()
    table.field_names = [
        'config', f'maps mIoU ({train_split})', f'maps mIoU ({eval_split})',
        'bg threshold', f'pseudo-labels mIoU ({train_split})',
        f'segmentation mIoU ({eval_split})'
    ]

    def fmt(value):
        return '-' if value is None else f'{value * 100:.2f}'

    for name, m in results.items():
        table.add_row([
            name, fmt(m[f'map_miou_{train_split}']),
            fmt(m[f'map_miou_{eval_split}']), f'{m["bg_threshold"]:.2f}',
            fmt(m['pseudo_label_miou']), fmt(m['seg_miou'])
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
    parser.add_argument('--pipeline-options', nargs='+', action=DictAction,
                        help='wsss_pipeline overrides, e.g. crf=True')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    step = Step(args.gpus)
    results = {}
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        results[name] = run_config(config, args, step)
    first = Config.fromfile(args.configs[0]).get('wsss_pipeline', {})
    settings = dict(DEFAULTS, **first, **(args.pipeline_options or {}))
    table = summary_table(results, settings['train_split'],
                          settings['eval_split'])
    os.makedirs(args.work_dir, exist_ok=True)
    metrics_file = osp.join(args.work_dir, 'metrics.json')
    with atomic_path(metrics_file) as tmp:
        with open(tmp, 'w') as f:
            json.dump(results, f, indent=2)
    print_log('\n' + table, logger='current')
    print_log(f'metrics: {osp.abspath(metrics_file)}', logger='current')
    for name, m in results.items():
        print_log(f'{name}: stage-1 checkpoint {m["stage1_checkpoint"]}, '
                  f'pseudo-labels {m["pseudo_labels"]}/, segmentation '
                  f'checkpoint {m["seg_checkpoint"]}', logger='current')
    return results


if __name__ == '__main__':
    main()
