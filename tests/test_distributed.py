"""Two CPU processes (gloo) train through torchrun, tools/train.py and
MMSeparateDistributedDataParallel, and stay in sync."""
import os
import os.path as osp
import socket
import subprocess
import sys

import torch

from test_configs import ROOT, tiny_options

BASE_CONFIG = 'adv_erase_timm-resnet50d_voc.py'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_gloo_training_keeps_ranks_in_sync(tiny_voc, tmp_path):
    options = tiny_options(tiny_voc, max_iters=4)
    options.update({
        'model.localizer.backbone.model_name': 'test_resnet',
        'model.adversary.backbone.model_name': 'test_resnet',
        'model.localizer_iters': 2,
        'model.adversary_iters': 2,
        'val_cfg': None,
        'val_dataloader': None,
        'val_evaluator': None,
    })
    args = [
        f'{k}=({v[0]},{v[1]})' if isinstance(v, tuple) else f'{k}={v}'
        for k, v in options.items()
    ]
    config = tmp_path / 'ddp.py'
    config.write_text(
        f"_base_ = [{osp.join(ROOT, 'configs', BASE_CONFIG)!r}]\n"
        "custom_imports = dict(imports=['mmadv', 'rank_weights_hook'])\n"
        "custom_hooks = [dict(type='RankWeightsHook')]\n")
    env = dict(os.environ, PYTHONPATH=osp.join(ROOT, 'tests', 'helpers'),
               OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port()}',
         osp.join(ROOT, 'tools', 'train.py'),
         str(config),
         '--launcher', 'pytorch', '--work-dir', str(tmp_path),
         '--cfg-options', *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(str(tmp_path / f'rank{r}.pth'), weights_only=False)
             for r in (0, 1)]
    assert ranks[0]['outer'] == 'MMSeparateDistributedDataParallel'
    assert ranks[0]['wrappers']['localizer'] == 'MMDistributedDataParallel'
    assert ranks[0]['wrappers']['adversary'] == 'MMDistributedDataParallel'
    for net in ('localizer', 'adversary'):
        first, second = ranks[0]['state'][net], ranks[1]['state'][net]
        for key, value in first.items():
            if key.endswith(('running_mean', 'running_var')):
                continue  # BN statistics are per rank (no SyncBN)
            torch.testing.assert_close(second[key], value, msg=key)
    checkpoint = torch.load(str(tmp_path / 'iter_4.pth'), weights_only=False)
    assert int(checkpoint['state_dict']['iteration']) == 4
    assert set(checkpoint['optimizer']) == {'localizer', 'adversary'}
