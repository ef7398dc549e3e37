"""The prepared GPU check in its CPU smoke mode: every part runs, at tiny
sizes, and writes its JSON and table."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from conftest import REPO


def test_gpu_check_smoke_writes_every_part(tmp_path):
    out = tmp_path / 'out'
    # the interpreter that runs the tests, named by PYTHON, not found on
    # the PATH (which has no Python with mmadv)
    result = subprocess.run(
        [shutil.which('bash'), osp.join(REPO, 'tools', 'gpu_check.sh'),
         '--cpu-smoke', str(out)],
        capture_output=True, text=True, cwd=str(tmp_path), timeout=300,
        env=dict(os.environ, PATH='/usr/bin:/bin', PYTHON=sys.executable))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    results = json.loads((out / 'gpu_check.json').read_text())
    parts = results['parts']
    assert results['mode'] == 'cpu-smoke'
    assert list(parts) == ['machine', 'train_step', 'dist_train',
                           'infer_maps', 'pseudo_labels', 'random_walk',
                           'irn_walk']
    assert all(p['status'] == 'ok' for p in parts.values()), parts
    rows = parts['train_step']['result']['rows']
    assert [(r['config'], r['mode']) for r in rows] == [
        (config, mode)
        for config in ('adv_erase_r38_voc', 'adv_erase_timm-resnet50d_voc')
        for mode in ('fp32', 'fp32 channels-last', 'fp16', 'bf16',
                     'fp16 channels-last')
    ]
    for row in rows:
        if 'fp16' in row['mode'] or 'bf16' in row['mode']:
            assert row['skipped'] == 'AmpOptimWrapper needs a GPU'
        else:
            # measured, not asserted (timings on a shared CPU are noise):
            # positive numbers, and the iteration ratio is the images/s
            for key in ('images_per_second', 'baseline_images_per_second',
                        'ratio', 'localizer_phase_ratio'):
                assert row[key] > 0, key
            assert row['ratio'] == pytest.approx(
                row['baseline_images_per_second'] /
                row['images_per_second'], rel=1e-6)
    train = parts['dist_train']['result']
    runs = [(r['iters'], r['resume']) for r in train['runs']]
    assert runs == [(4, False), (6, True)]
    assert train['final_iteration'] == 6 and train['losses'] > 0
    for name in ('infer_maps', 'random_walk'):
        assert parts[name]['result']['images_per_second'] > 0
    irn = parts['irn_walk']['result']
    assert [irn[r]['setup']['size'] for r in ('stencil', 'dense')] == [64, 64]
    assert irn['dense']['dense_images_per_second'] > 0
    assert 'dense_images_per_second' not in irn['stencil']
    table = (out / 'gpu_check.md').read_text().splitlines()
    assert table[0] == '| part | what | result |'
    # machine, train steps, 4 more parts, IRN's 2 walks, total
    assert len(table) == 2 + 1 + len(rows) + 4 + 2 + 1
    assert table[-1].startswith('| total | cpu-smoke | ')


def test_amp_modes_configure_every_optimizer_wrapper():
    """What the check's fp16 / bf16 rows build on a GPU (the CPU cannot
    build an AmpOptimWrapper): every wrapper an AmpOptimWrapper in the
    mode's dtype, the rest of the config kept."""
    from mmengine.config import Config

    from mmadv.benchmarks import amp_config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'adv_erase_r38_voc.py'))
    amp_config(cfg, 'bfloat16')
    for key in ('localizer', 'adversary'):
        wrapper = cfg.optim_wrapper[key]
        assert (wrapper.type, wrapper.dtype, wrapper.loss_scale) == (
            'AmpOptimWrapper', 'bfloat16', 'dynamic')
        assert wrapper.optimizer.lr == 0.01
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'affinity_r38_voc.py'))
    amp_config(cfg, 'float16')
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == (
        'AmpOptimWrapper', 'float16')
