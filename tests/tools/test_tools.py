"""The tools as a user runs them: argparse glue over mmadv.apis, errors as
one line and an exit status, defaults from the pipeline settings, the
demo's console."""
import json
import os.path as osp
import re
import subprocess
import sys
import typing

import numpy as np
import pytest
from conftest import REPO, TINY, TINY_DATA, load_tool, tool_error
from test_configs import save_tiny_classifier
from test_distributed import free_port

from mmadv.apis import (IRNSettings, PipelineSettings, RandomWalkSettings,
                        infer_maps, init_model)
from mmadv.datasets import load_maps
from mmadv.datasets.demo_shapes import generate_demo_voc


def tool(*args, cwd=REPO):
    """Run ``python tools/<args>`` in a new process (the smoke test of a
    tool; the others call its ``main(argv)``); the finished process."""
    return subprocess.run([sys.executable, osp.join(REPO, 'tools', *args[:1]),
                           *map(str, args[1:])],
                          capture_output=True, text=True, cwd=str(cwd),
                          timeout=300)


def options(flag, values):
    return [flag, *(f'{k}={v}' for k, v in values.items())]


def demo_args(demo_run):
    return [
        '--work-dir', demo_run['work_dir'], '--seed', 0, '--num-train',
        TINY_DATA['num_train'], '--num-val', TINY_DATA['num_val'],
        *options('--cfg-options', TINY['cfg_options']),
        *options('--model-cfg-options', {
            f'{network}.{key}': value
            for network, values in TINY['model_cfg_options'].items()
            for key, value in values.items()
        })
    ]


def test_run_demo_reruns_nothing_and_prints_one_line_per_step(demo_run):
    result = tool('run_demo.py', *demo_args(demo_run))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    steps = [line for line in lines if re.search(r'- INFO - \[.+\] ', line)]
    # the same arguments as the README example: every step was done, 8
    # for each config and 9 for each refinement's row
    assert len(steps) == 34
    assert all(': done before (' in line for line in steps)
    # the table, where everything is, the figure: no more
    assert len(lines) <= len(steps) + 20
    assert lines[-1].endswith(osp.join(demo_run['work_dir'],
                                       'demo_figure.png'))
    assert osp.isfile(osp.join(demo_run['work_dir'], 'demo_figure.png'))


def test_bad_settings_and_files_are_one_line(tmp_path):
    line = tool_error('run_pipeline.py', [
        'configs/demo/cam_demo.py', '--work-dir', tmp_path,
        '--pipeline-options', 'threshold=0.3'])
    assert line.startswith('run_pipeline: error: ')
    assert "unknown settings ['threshold']" in line
    line = tool_error('infer_cam.py', [
        'configs/demo/adv_erase_demo.py', tmp_path / 'none.pth',
        '--out-dir', tmp_path / 'maps'])
    assert line.startswith('infer_cam: error: ')
    assert f'cannot read checkpoint {tmp_path / "none.pth"}' in line
    assert not (tmp_path / 'maps').exists()
    line = tool_error('infer_irn.py', [
        'configs/demo/irn_demo.py', tmp_path / 'none.pth', tmp_path / 'maps',
        '--out-dir', tmp_path / 'maps_irn'])
    assert line.startswith('infer_irn: error: ')
    assert f'cannot read checkpoint {tmp_path / "none.pth"}' in line
    assert not (tmp_path / 'maps_irn').exists()


def test_train_errors_of_the_user_are_one_line(tmp_path):
    """tools/train.py with a data root that is not there, a type that is
    no registered class, and a 0-byte image read by a DataLoader worker
    (``--debug`` and its traceback: tests/utils/test_cli.py)."""
    config = 'configs/demo/cam_demo.py'
    line = tool_error('train.py', [
        config, '--work-dir', tmp_path / 'w', '--cfg-options',
        'train_dataloader.dataset.data_root=nowhere'])
    assert line == ('train: error: image list '
                    'nowhere/ImageSets/Segmentation/train_aug.txt not found')
    data = tmp_path / 'data'
    generate_demo_voc(str(data), num_train=4, num_val=2,
                      show_progress=False)
    data_roots = [f'{loader}.dataset.data_root={data}'
                  for loader in ('train_dataloader', 'val_dataloader',
                                 'test_dataloader')]
    line = tool_error('train.py', [
        config, '--work-dir', tmp_path / 'w', '--cfg-options', *data_roots,
        'model.localizer.backbone.type=Nope'])
    assert line.startswith('train: error: config: Nope is not in the '
                           'mmseg::model registry (')
    empty = data / 'JPEGImages' / 'train_000000.jpg'
    empty.write_bytes(b'')
    line = tool_error('train.py', [
        config, '--work-dir', tmp_path / 'w', '--cfg-options', *data_roots,
        'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=4', 'train_cfg.max_iters=1'])
    # the batches' sizes are read before the Runner
    assert line.startswith(f'train: error: cannot load {empty}: cannot '
                           'identify image file')
    line = tool_error('train.py', [
        config, '--work-dir', tmp_path / 'w', '--cfg-options', *data_roots,
        'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=1', 'train_cfg.max_iters=1'])
    # one image a batch: the worker's error
    assert line.startswith(f'train: error: cannot load {empty} and ')


def parse(name: str, argv: list):
    """The parsed arguments of ``tools/<name>.py``."""
    return load_tool(f'{name}.py').parse_args(argv)


def test_tools_take_their_defaults_from_the_settings():
    assert parse('infer_cam', ['c.py', 'k.pth']).scales == list(
        PipelineSettings.default('scales'))
    assert parse('eval_cam', ['maps', '--gt-dir', 'gt']).thresholds == list(
        PipelineSettings.default('thresholds'))
    labels = parse('make_pseudo_labels',
                   ['maps', '--img-dir', 'i', '--out-dir', 'o'])
    assert labels.workers == PipelineSettings.default('workers')
    walk = parse('infer_random_walk', ['c.py', 'k.pth', 'maps'])
    for name in ('bg_alpha', 'beta', 'logt'):
        assert getattr(walk, name) == RandomWalkSettings.default(name)
    irn = parse('infer_irn', ['c.py', 'k.pth', 'maps'])
    for name in ('radius', 'beta', 'logt', 'flip'):
        assert getattr(irn, name) == IRNSettings.default(name)
    relation = parse('make_pseudo_labels',
                     ['maps', '--img-dir', 'i', '--out-dir', 'o',
                      '--relation', '0.3', '0.05', '--crf'])
    assert load_tool('make_pseudo_labels.py').labeler(relation) == dict(
        type='RelationLabeler', conf_fg_thres=0.3, conf_bg_thres=0.05,
        crf=dict(t=10, scale_factor=1.0))


@pytest.mark.parametrize('kind, tool, config, walk', [
    (RandomWalkSettings, 'infer_random_walk', 'configs/demo/affinity_demo.py',
     dict(bg_alpha=12.5, beta=6, logt=3)),
    (IRNSettings, 'infer_irn', 'configs/demo/irn_demo.py',
     dict(radius=3, beta=7.5, logt=2, flip=False, pad_size=0)),
    (IRNSettings, 'infer_irn', 'configs/demo/irn_demo.py',
     dict(radius=4, beta=10, logt=8, flip=True, pad_size=512)),
])
def test_a_refinement_tool_takes_its_settings(kind, tool, config, walk):
    """A refinement's map tool has an option for each setting of its maps
    (``walk``), which parses back to the settings, of their types; each
    is another value than the default in the first two cases."""
    settings = kind.from_value(dict(config=config, **walk), 'test')
    pipeline = PipelineSettings.from_sources(
        ('options', dict(max_pixels=4096)))
    args = parse(tool,
                 ['c.py', 'k.pth', 'maps',
                  *map(str, settings.arguments(kind.walk)),
                  *map(str, pipeline.arguments(('max_pixels', )))])
    parsed = {name: getattr(args, name) for name in kind.walk}
    assert parsed == walk
    hints = typing.get_type_hints(kind)
    assert all(type(value) is hints[name] for name, value in parsed.items())
    assert args.max_pixels == 4096


@pytest.mark.parametrize('scales, flip', [((1.0, 0.75), False),
                                          ((0.5, 1.0, 1.5, 2.0), True)])
def test_infer_cam_takes_the_pipelines_map_settings(scales, flip):
    """tools/infer_cam.py has the pipeline's map settings as options, which
    parse back."""
    settings = PipelineSettings.from_sources(
        ('options', dict(scales=list(scales), flip=flip, max_pixels=4096)))
    args = parse('infer_cam',
                 ['c.py', 'k.pth',
                  *map(str, settings.arguments(('scales', 'flip',
                                                'max_pixels')))])
    assert (tuple(args.scales), args.flip, args.max_pixels) == (scales, flip,
                                                                4096)


def test_map_inference_shards_over_torchrun_processes(tiny_voc, tmp_path):
    """Two CPU processes (gloo) split the split by mmengine's
    DefaultSampler and write the maps one process writes."""
    config, checkpoint, _ = save_tiny_classifier(tiny_voc, str(tmp_path))
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port()}',
         osp.join(REPO, 'tools', 'infer_cam.py'), str(config),
         str(checkpoint), '--out-dir', str(tmp_path / 'sharded'),
         '--scales', '0.5', '1.0'],
        capture_output=True, text=True, cwd=str(REPO), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    model = init_model(str(config), str(checkpoint), 'cpu')
    infer_maps(model, 'train_aug', str(tmp_path / 'one'), (0.5, 1.0), True)
    one = sorted(p.name for p in (tmp_path / 'one').iterdir())
    assert sorted(p.name for p in (tmp_path / 'sharded').iterdir()) == one
    for name in one[:-1]:  # the .npz files, then meta.json
        for a, b in zip(load_maps(str(tmp_path / 'one' / name)),
                        load_maps(str(tmp_path / 'sharded' / name))):
            np.testing.assert_array_equal(a, b)


def test_eval_threshold_rules_compares_the_rules(demo_run, tmp_path):
    row = demo_run['rows']['adv_erase_demo']
    masks = osp.join(row.data_root, 'SegmentationClass')
    maps = [row.map_dirs['train_aug'], row.map_dirs['val']]
    out = tmp_path / 'rules.json'
    sweep = row.settings['thresholds']  # the demo's
    result = tool('eval_threshold_rules.py', *maps, '--train-gt-dir', masks,
                  '--thresholds', *sweep,
                  '--eval-gt-dir', masks, '--rules', 'MaskSweepThreshold',
                  'FixedThreshold:threshold=0.3',
                  'SubsetSweepThreshold:num_images=3,seed=1',
                  'OtsuThreshold', '--json', out)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out) as f:
        rules = json.load(f)
    assert [r['rule'] for r in rules] == ['train masks', 'fixed', '3 masks',
                                          'Otsu']
    assert [r['num_masks'] for r in rules] == [12, 0, 3, 0]
    # the pipeline's rule, as the pipeline chose and scored it
    assert rules[0]['threshold'] == row.bg_threshold
    assert rules[0]['map_miou_val'] == pytest.approx(row.map_miou['val'])
    assert rules[0]['map_miou_train_aug'] == pytest.approx(
        row.map_miou['train_aug'])
    assert rules[1]['threshold'] == 0.3
    for rule in rules:
        assert f'{rule["threshold"]:.3f}' in result.stdout + result.stderr
    # without training masks, a rule that reads them is refused
    line = tool_error('eval_threshold_rules.py', [
        *maps, '--eval-gt-dir', masks, '--rules', 'OtsuThreshold',
        'SubsetSweepThreshold'])
    assert line.startswith('eval_threshold_rules: error: ')
    assert 'SubsetSweepThreshold reads training masks' in line
