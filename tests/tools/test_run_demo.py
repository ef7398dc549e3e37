"""The demo pipeline end to end at tiny sizes: demo data, stage 1 (baseline
and adversarial erasing), maps, map evaluation, pseudo-labels, the
DeepLabV3+ stage, its test, the random-walk refinement of the adversarial
erasing maps and the figure; then a rerun that skips every step."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmadv.datasets.demo_shapes import VOC_LABELS
from mmadv.pseudo_labels.map_io import load_maps, map_path, read_meta
from mmadv.pseudo_labels.pseudo_labels import read_label_png

TOOLS = osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools')
sys.path.insert(0, TOOLS)
import demo_figure  # noqa: E402
import run_demo  # noqa: E402
import run_pipeline  # noqa: E402

CONFIGS = ('cam_demo', 'adv_erase_demo')
WALKED = 'adv_erase_demo + random walk'


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('demo'))
    argv = [
        '--work-dir', work_dir, '--seed', '3', '--num-train', '12',
        '--num-val', '6', '--cfg-options', 'train_cfg.max_iters=4',
        'model.localizer_iters=2', 'model.adversary_iters=2',
        'train_dataloader.batch_size=4', '--seg-cfg-options',
        'train_cfg.max_iters=3', 'train_dataloader.batch_size=4',
        '--affinity-cfg-options', 'train_cfg.max_iters=2',
        'train_dataloader.batch_size=4'
    ]
    results = run_demo.main(argv)
    return work_dir, argv, results


def test_every_stage_writes_and_reads_back(demo_run):
    work_dir, _, results = demo_run
    data_root = osp.join(work_dir, 'data')
    with open(osp.join(work_dir, 'metrics.json')) as f:
        metrics = json.load(f)
    assert sorted(metrics) == sorted([*CONFIGS, WALKED])
    assert metrics == json.loads(json.dumps(results))
    with open(osp.join(data_root, 'ImageSets/Segmentation/val.txt')) as f:
        val_names = f.read().split()
    assert len(val_names) == 6
    for name in CONFIGS:
        m = metrics[name]
        for key in ('map_miou_train_aug', 'map_miou_val',
                    'pseudo_label_miou', 'seg_miou'):
            assert 0. <= m[key] <= 1., (name, key, m[key])
        assert 0.05 <= m['bg_threshold'] <= 0.95
        # stage 1: a checkpoint with the localizer's weights
        state = torch.load(m['stage1_checkpoint'], map_location='cpu',
                           weights_only=False)['state_dict']
        assert any(k.startswith('localizer.') for k in state)
        assert any(k.startswith('adversary.')
                   for k in state) == (name == 'adv_erase_demo')
        # maps: one file per image, the XML's classes, image-sized maps
        with open(osp.join(data_root,
                           'ImageSets/Segmentation/train_aug.txt')) as f:
            train_names = f.read().split()
        for split, names in (('train_aug', train_names), ('val', val_names)):
            folder = osp.join(m['work_dir'], f'maps_{split}')
            assert m['map_dirs'][split] == folder
            assert read_meta(folder, split)['num_images'] == len(names)
            for image in names:
                classes, maps = load_maps(map_path(folder, image))
                gt = read_label_png(
                    osp.join(data_root, 'SegmentationClass', image + '.png'))
                assert sorted(classes + 1) == sorted(set(gt.ravel()) - {0})
                assert maps.shape == (len(classes), 64, 64)
                assert 0. <= maps.min() and maps.max() <= 1.
        # pseudo-labels: 12 VOC-palette PNGs of the demo's labels
        labels = [
            read_label_png(osp.join(m['pseudo_labels'], f'train_{i:06d}.png'))
            for i in range(12)
        ]
        values = set(np.unique(np.stack(labels)).tolist())
        assert values <= {0, 255, *VOC_LABELS}
        # segmentation: checkpoint and mmseg's test metrics
        assert osp.isfile(m['seg_checkpoint'])
        with open(osp.join(m['work_dir'], 'seg_test',
                           'test_metrics.json')) as f:
            assert json.load(f)['mIoU'] / 100 == pytest.approx(m['seg_miou'])
    figure = cv2.imread(osp.join(work_dir, 'demo_figure.png'))
    # 6 images x 7 panels of 2 x 2 inches at 100 dpi: image, CAM, adversarial
    # erasing map and label, random-walk map and label, ground truth
    assert figure.shape == (1200, 1400, 3)


def test_rerun_skips_every_step(demo_run, monkeypatch):
    work_dir, argv, results = demo_run

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f'step rerun: {args}')

    monkeypatch.setattr(subprocess, 'run', no_subprocess)
    assert run_demo.main(argv) == results


def test_other_settings_are_refused(demo_run):
    work_dir, argv, _ = demo_run
    pipeline = [
        run_demo.BASELINE, '--work-dir', work_dir, '--data-root',
        osp.join(work_dir, 'data')
    ]
    stage1_options = argv[argv.index('--cfg-options'):argv.index(
        '--seg-cfg-options')]
    with pytest.raises(SystemExit, match='another stage-1 config'):
        run_pipeline.main([*pipeline, '--seed', '4', *stage1_options])
    with pytest.raises(SystemExit, match='unknown settings'):
        run_pipeline.main(
            [*pipeline, '--pipeline-options', 'threshold=0.3'])
    # another AffinityNet training for the same maps
    other = list(argv)
    other[other.index('--affinity-cfg-options') + 1] = 'train_cfg.max_iters=3'
    with pytest.raises(SystemExit, match='another AffinityNet config'):
        run_demo.main(other)


@pytest.mark.parametrize('bad,match', [
    (dict(crf_scale=0), 'crf_scale must be > 0, got 0'),
    (dict(logt=-1), 'logt must be an integer >= 0, got -1'),
    (dict(logt=2.5), 'logt must be an integer >= 0, got 2.5'),
    (dict(alpha=4), "knows .*got .*'alpha'"),
])
def test_random_walk_settings_are_checked(bad, match):
    cfg = Config.fromfile(run_demo.METHOD)
    walk = dict(cfg.wsss_pipeline.random_walk, **bad)
    with pytest.raises(SystemExit, match=match):
        run_pipeline.pipeline_settings(cfg, run_demo.METHOD,
                                       dict(random_walk=walk))
    settings = run_pipeline.pipeline_settings(cfg, run_demo.METHOD, {})
    assert settings['random_walk']['crf_scale'] == 16


def test_pipeline_summary_table():
    metrics = dict(
        train_split='train',
        eval_split='val',
        map_miou_train=0.5,
        map_miou_val=0.25,
        bg_threshold=0.3,
        pseudo_label_miou=None,
        seg_miou=0.125)
    table = run_pipeline.summary_table(dict(a=metrics))
    row = [c.strip() for c in table.splitlines()[3].split('|')[1:-1]]
    assert row == ['a', '50.00', '25.00', '0.30', '-', '12.50']


def test_random_walk_adds_a_row(demo_run):
    work_dir, _, results = demo_run
    walked = results[WALKED]
    for key in ('map_miou_train_aug', 'map_miou_val', 'pseudo_label_miou',
                'seg_miou'):
        assert 0. <= walked[key] <= 1., (key, walked[key])
    # the demo's settings (adv_erase_demo.py), frozen with the run
    root = results['adv_erase_demo']['work_dir']
    assert walked['work_dir'] == root
    with open(osp.join(root, 'configs', 'pipeline.json')) as f:
        walk = json.load(f)['random_walk']
    assert walk['config'].endswith('configs/demo/affinity_demo.py')
    assert walk['affinity_alphas'] == [0.2, 1.0]
    assert (walk['crf'], walk['crf_scale']) == (True, 16)
    assert (walk['bg_alpha'], walk['beta'], walk['logt']) == (0.5, 8, 4)
    assert walked['random_walk'] == walk
    with open(osp.join(root, 'affinity_labels_train_aug.json')) as f:
        summary = json.load(f)
    assert summary['affinity'] == [0.2, 1.0]
    assert summary['crf'] == dict(t=10, scale_factor=16.0)
    # --affinity-cfg-options reached the frozen AffinityNet config
    affinity_cfg = Config.fromfile(osp.join(root, 'configs', 'affinity.py'))
    assert affinity_cfg.train_cfg.max_iters == 2
    assert osp.isfile(walked['affinity_checkpoint'])
    for split in ('train_aug', 'val'):
        meta = read_meta(osp.join(root, f'maps_rw_{split}'), split)
        assert meta['stride'] == 2  # the demo's stride-2 embedding
        assert meta['logt'] == 4
    for name in (f'train_{i:06d}' for i in range(12)):
        classes, maps = load_maps(map_path(osp.join(root, 'maps_train_aug'),
                                           name))
        rw_classes, rw_maps = load_maps(
            map_path(osp.join(root, 'maps_rw_train_aug'), name))
        np.testing.assert_array_equal(rw_classes, classes)
        assert rw_maps.shape == maps.shape
        label = read_label_png(
            osp.join(root, 'affinity_labels_train_aug', f'{name}.png'))
        assert set(np.unique(label)) <= {0, 255, *(classes + 1).tolist()}
    assert walked['pseudo_labels'].endswith('pseudo_labels_rw_train_aug')
    table = run_pipeline.summary_table(results)
    assert WALKED in table


def test_figure_without_random_walk(demo_run, tmp_path):
    work_dir, _, results = demo_run
    rows = {name: results[name] for name in CONFIGS}
    with open(tmp_path / 'metrics.json', 'w') as f:
        json.dump(rows, f)
    out = demo_figure.make_figure(str(tmp_path), *CONFIGS)
    # 5 panels: image, CAM, adversarial erasing map and label, ground truth
    assert cv2.imread(out).shape == (1200, 1000, 3)
    del rows['cam_demo']['map_dirs']  # a metrics.json of an older pipeline
    with open(tmp_path / 'metrics.json', 'w') as f:
        json.dump(rows, f)
    with pytest.raises(ValueError, match='older tools/run_pipeline.py'):
        demo_figure.make_figure(str(tmp_path), *CONFIGS)


def test_no_random_walk_turns_it_off(demo_run, monkeypatch):
    work_dir, argv, _ = demo_run
    calls = []

    def pipeline(pipeline_argv):
        calls.append(pipeline_argv)
        raise SystemExit('stop')

    monkeypatch.setattr(run_pipeline, 'main', pipeline)
    with pytest.raises(SystemExit, match='stop'):
        run_demo.main([*argv, '--no-random-walk'])
    args = run_pipeline.parse_args(calls[0])
    assert args.pipeline_options == dict(random_walk=None)
    assert args.affinity_cfg_options == {
        'train_cfg.max_iters': 2,
        'train_dataloader.batch_size': 4
    }
