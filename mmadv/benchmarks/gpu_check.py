"""The prepared GPU check: one call that measures mmadv on a GPU in a few
minutes and writes ``gpu_check.json`` and ``gpu_check.md`` (a Markdown
table) into an output folder (``tools/gpu_check.sh`` runs it).

Parts (:data:`PARTS`; each timed; one that fails is recorded with its
error line and the others still run):

- ``machine``: GPU name, memory, torch, CUDA and cuDNN versions, CPUs;
- ``train_step``: one training iteration
  (:func:`~mmadv.benchmarks.train_step_benchmark`) of
  ``configs/adv_erase_r38_voc.py`` against ``configs/cam_r38_voc.py`` at
  448 px, batch 8, and of the timm ResNet-50-D config against its CAM
  baseline: images/s, peak memory and the method / baseline ratio in
  fp32, fp16 and bf16 autocast (``AmpOptimWrapper``), and fp32 and fp16
  with channels-last networks;
- ``dist_train``: 20 iterations of ``configs/adv_erase_r38_voc.py`` through
  ``tools/dist_train.sh CONFIG 1 --amp`` on generated VOC-layout data
  (the demo's generator at 448 px), then ``--resume`` to 30: both runs
  end, every logged loss is finite, the checkpoints are written and the
  second run starts from the first's (left out when no ``dist_train.sh``
  is given: it is a tool of the repository, not of the package);
- ``infer_maps``: map inference of the ResNet-38 localizer at 375 x 500
  with PSA's 4 scales + flip;
- ``pseudo_labels``: pseudo-labels at 375 x 500, thresholded and with the
  dense CRF (CPU work, one process);
- ``random_walk``: the random walk of the ResNet-38 AffinityNet at 448 px;
- ``irn_walk``: IRN's random walk (stencil, radius 5, 2^8 steps, 2
  classes) at 512 px, and the dense matrix IRN builds at 256 px.

The smoke mode runs every part on the CPU at tiny sizes, with timm's
``test_resnet`` for every network, in under a minute (the AMP modes need a
GPU: they are listed as skipped), so that the check cannot rot between GPU
runs. Nothing is downloaded.
"""
import json
import math
import os
import os.path as osp
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Callable, Dict, List, Optional

import torch
from mmengine.logging import MMLogger

from ..datasets.demo_shapes import generate_demo_voc
from ..utils.config_path import resolve_config
from ..utils.errors import ConfigError, one_line
from .per_image import (infer_maps_benchmark, irn_walk_benchmark,
                        pseudo_labels_benchmark, random_walk_benchmark)
from .train_step import train_step_benchmark

# every network timm's tiny test_resnet (--cpu-smoke)
TINY_NETWORKS = {
    'model.localizer.backbone':
    dict(
        _delete_=True,
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8),
    'model.adversary.backbone.model_name': 'test_resnet',
}
TINY_AFFINITY = {
    'model.backbone':
    dict(
        _delete_=True,
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8,
        out_indices=(0, 2, 4)),
    'model.embed_channels': 16,
}


class Check:
    """The sizes of the check, GPU or smoke."""

    def __init__(self, smoke: bool, work_dir: str, out_dir: str,
                 dist_train: Optional[str]) -> None:
        self.smoke = smoke
        self.dist_train = dist_train
        self.device = 'cpu' if smoke else 'cuda'
        self.work_dir = work_dir
        self.out_dir = out_dir
        self.networks = TINY_NETWORKS if smoke else {}
        self.size = 32 if smoke else 448
        self.height, self.width = (24, 32) if smoke else (375, 500)


def machine(check: Check) -> dict:
    info = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        cpus=os.cpu_count(),
        cuda_available=torch.cuda.is_available())
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            capability=f'{props.major}.{props.minor}')
    return info


def train_step(check: Check) -> dict:
    modes = [('fp32', None, False), ('fp32 channels-last', None, True),
             ('fp16', 'float16', False), ('bf16', 'bfloat16', False),
             ('fp16 channels-last', 'float16', True)]
    pairs = [('adv_erase_r38_voc', 'cam_r38_voc'),
             ('adv_erase_timm-resnet50d_voc', 'cam_timm-resnet50d_voc')]
    rows = []
    for method, baseline in pairs:
        for mode, amp, channels_last in modes:
            row = dict(config=method, mode=mode)
            rows.append(row)
            if amp and check.smoke:
                row['skipped'] = 'AmpOptimWrapper needs a GPU'
                continue
            options = dict(check.networks)
            # the baseline has no adversary to shrink
            cam = {k: v for k, v in options.items()
                   if not k.startswith('model.adversary')}
            result = train_step_benchmark(
                f'configs/{method}.py',
                f'configs/{baseline}.py',
                batch_size=2 if check.smoke else 8,
                size=check.size,
                iters=1 if check.smoke else 10,
                warmup=1 if check.smoke else 3,
                device=check.device,
                amp=amp,
                channels_last=channels_last,
                cfg_options=options,
                baseline_options=cam)
            row.update(
                images_per_second=result['method']['images_per_second'],
                baseline_images_per_second=result['baseline'][
                    'images_per_second'],
                ratio=result['ratio_iteration'],
                localizer_phase_ratio=result['ratio_localizer_phase'],
                peak_mib=max(v for k, v in result['method'].items()
                             if k.endswith('_peak_mib')) if
                not check.smoke else None)
    return dict(rows=rows, size=check.size,
                batch_size=2 if check.smoke else 8)


def _losses_finite(work_dir: str) -> List[float]:
    """Every logged ``loss*`` value of a work dir's scalars."""
    values = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                for line in f:
                    values += [
                        v for k, v in json.loads(line).items()
                        if k.startswith('loss')
                    ]
    return values


def _free_port() -> int:
    """A TCP port nothing listens on now (each run its own: the last
    run's port may still be closing)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(check: Check) -> dict:
    if check.dist_train is None:
        raise ConfigError('no tools/dist_train.sh given')
    data = generate_demo_voc(
        osp.join(check.work_dir, 'voc'),
        num_train=8 if check.smoke else 32,
        num_val=2,
        size=64 if check.smoke else 448,
        show_progress=False)
    work_dir = osp.join(check.work_dir, 'dist_train')
    first, last = (4, 6) if check.smoke else (20, 30)
    config = resolve_config('configs/adv_erase_r38_voc.py', 'config')
    if check.smoke:  # the same config with tiny networks
        base, config = config, osp.join(check.work_dir, 'tiny_r38.py')
        with open(config, 'w') as f:
            f.write(f'_base_ = [{base!r}]\n'
                    'model = dict(localizer=dict(backbone=dict(_delete_=True,'
                    " type='TimmFeatureBackbone', model_name='test_resnet',"
                    ' output_stride=8)), adversary=dict(backbone=dict('
                    "model_name='test_resnet')))\n")
    options = dict(
        **{
            'train_dataloader.dataset.data_root': data,
            'val_dataloader.dataset.data_root': data,
            'test_dataloader.dataset.data_root': data,
            'model.localizer.backbone.init_cfg': None,
            'train_dataloader.batch_size': 2 if check.smoke else 8,
            'train_dataloader.num_workers': 0 if check.smoke else 4,
            'train_dataloader.persistent_workers': False,
            'model.localizer_iters': 2 if check.smoke else 5,
            'model.adversary_iters': 2 if check.smoke else 5,
            'default_hooks.checkpoint.interval': first // 2,
            'default_hooks.logger.interval': 1,
        })
    if check.smoke:
        options.update({
            'train_dataloader.dataset.pipeline.1.transforms.0.scale':
            (64, 64),
            'train_dataloader.dataset.pipeline.1.transforms.3.crop_size':
            (32, 32),
            'crop_size': (32, 32),  # the padding size follows it
        })
    runs = []
    for max_iters, resume in ((first, []), (last, ['--resume'])):
        args = {**options, 'train_cfg.max_iters': max_iters,
                'train_cfg.val_interval': 10 * last}
        cmd = [
            'bash', check.dist_train, config, '1',
            '--work-dir', work_dir, *resume,
            *([] if check.smoke else ['--amp']),
            '--cfg-options', *(f'{k}={_cli(v)}' for k, v in args.items())
        ]
        start = time.perf_counter()
        result = subprocess.run(
            cmd, capture_output=True, text=True, cwd=check.work_dir,
            env=dict(os.environ, PORT=str(_free_port()),
                     PYTHON=sys.executable))
        runs.append(dict(iters=max_iters, resume=bool(resume),
                         seconds=time.perf_counter() - start,
                         returncode=result.returncode))
        with open(osp.join(check.out_dir, 'dist_train.log'), 'a') as f:
            f.write(f'$ {" ".join(cmd)}\n{result.stdout[-20000:]}\n'
                    f'{result.stderr[-20000:]}\n')
        if result.returncode:
            raise RuntimeError(f'dist_train.sh to {max_iters} iterations: '
                               f'exit {result.returncode} (see '
                               'dist_train.log)')
    checkpoint = torch.load(
        osp.join(work_dir, f'iter_{last}.pth'), map_location='cpu',
        weights_only=False)
    losses = _losses_finite(work_dir)
    resumed = int(checkpoint['state_dict']['iteration'])
    if not (losses and all(math.isfinite(v) for v in losses)):
        raise RuntimeError(f'losses not finite: {losses[:10]}')
    if resumed != last or not osp.isfile(
            osp.join(work_dir, f'iter_{first}.pth')):
        raise RuntimeError(f'the resumed run ended at iteration {resumed}')
    return dict(runs=runs, amp=not check.smoke, losses=len(losses),
                max_loss=max(losses), final_iteration=resumed)


def _cli(value) -> str:
    """A ``--cfg-options`` value as mmengine's DictAction reads it."""
    if isinstance(value, tuple):
        return '(' + ','.join(map(str, value)) + ')'
    return str(value)


def infer_maps(check: Check) -> dict:
    return infer_maps_benchmark(
        'configs/adv_erase_r38_voc.py', check.height, check.width,
        images=2 if check.smoke else 10, device=check.device,
        cfg_options=check.networks)


def pseudo_labels(check: Check) -> dict:
    return pseudo_labels_benchmark(
        check.height, check.width, images=2 if check.smoke else 20)


def random_walk(check: Check) -> dict:
    return random_walk_benchmark(
        'configs/affinity_r38_voc.py',
        size=64 if check.smoke else 448,
        images=2 if check.smoke else 5,
        logt=2 if check.smoke else 8,
        device=check.device,
        cfg_options=TINY_AFFINITY if check.smoke else None)


def irn_walk(check: Check) -> dict:
    walks = {
        route: irn_walk_benchmark(
            size=64 if check.smoke else size, images=2 if check.smoke else 5,
            logt=2 if check.smoke else 8, dense=dense, device=check.device)
        for route, size, dense in (('stencil', 512, False),
                                   ('dense', 256, True))
    }
    return walks


PARTS: Dict[str, Callable[[Check], dict]] = dict(
    machine=machine,
    train_step=train_step,
    dist_train=dist_train,
    infer_maps=infer_maps,
    pseudo_labels=pseudo_labels,
    random_walk=random_walk,
    irn_walk=irn_walk)


def _fmt(value, digits=2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def markdown(results: dict) -> str:
    """The results as one Markdown table: part, what, numbers."""
    lines = ['| part | what | result |', '|---|---|---|']
    for name, part in results['parts'].items():
        if part['status'] != 'ok':
            lines.append(f'| {name} | - | {part["status"]} |')
            continue
        value = part['result']
        if name == 'machine':
            lines.append(f'| machine | {value.get("gpu", "no GPU")} | torch '
                         f'{value["torch"]}, CUDA {value["cuda"]}, cuDNN '
                         f'{value["cudnn"]}, {value["cpus"]} CPUs |')
        elif name == 'train_step':
            for row in value['rows']:
                what = (f'{row["config"]}, {row["mode"]}, '
                        f'{value["size"]} px, batch {value["batch_size"]}')
                if 'skipped' in row:
                    lines.append(f'| train step | {what} | skipped: '
                                 f'{row["skipped"]} |')
                    continue
                lines.append(
                    f'| train step | {what} | '
                    f'{_fmt(row["images_per_second"])} images/s, '
                    f'{_fmt(row["ratio"])}x the CAM baseline\'s time '
                    f'({_fmt(row["baseline_images_per_second"])} images/s; '
                    f'localizer phase {_fmt(row["localizer_phase_ratio"])}x)'
                    f', peak {_fmt(row["peak_mib"], 0)} MiB |')
        elif name == 'dist_train':
            runs = ', '.join(f'{r["iters"]} iterations'
                             f'{" (resumed)" if r["resume"] else ""} in '
                             f'{r["seconds"]:.0f} s' for r in value['runs'])
            lines.append(f'| dist_train.sh 1{" --amp" if value["amp"] else ""}'
                         f' | {runs} | {value["losses"]} finite losses, '
                         f'ends at iteration {value["final_iteration"]} |')
        elif name == 'irn_walk':
            for route, walk in value.items():
                setup = walk['setup']
                speeds = ', '.join(
                    f'{kind} {_fmt(walk[f"{kind}_images_per_second"])} '
                    f'images/s (peak {_fmt(walk.get(f"{kind}_peak_mib"), 1)}'
                    ' MiB)' for kind in ('stencil', 'dense')
                    if f'{kind}_images_per_second' in walk)
                lines.append(f'| IRN walk | {setup["size"]} px, '
                             f'2^{setup["logt"]} steps | {speeds} |')
        elif name == 'pseudo_labels':
            setup = value['setup']
            lines.append(
                f'| pseudo-labels | {setup["height"]} x {setup["width"]}, '
                f'one process | threshold '
                f'{_fmt(value["threshold_images_per_second"], 1)} images/s,'
                f' dense CRF {_fmt(value["crf_images_per_second"])} '
                'images/s |')
        else:
            setup = value['setup']
            size = (f'{setup["height"]} x {setup["width"]}, '
                    f'scales {setup["scales"]}, flip' if name == 'infer_maps'
                    else f'{setup["size"]} px, 2^{setup["logt"]} steps')
            lines.append(f'| {name.replace("_", " ")} | '
                         f'{osp.basename(value["config"])}, {size} | '
                         f'{_fmt(value["images_per_second"])} images/s, '
                         f'peak {_fmt(value.get("peak_mib"), 0)} MiB |')
    lines.append(f'| total | {results["mode"]} | '
                 f'{results["seconds"]:.0f} s |')
    return '\n'.join(lines) + '\n'


def run_gpu_check(out_dir: str,
                  smoke: bool = False,
                  dist_train_script: Optional[str] = None) -> dict:
    """Every part of the check (the module docstring), their results in
    ``out_dir/gpu_check.json`` and their table (:func:`markdown`) in
    ``out_dir/gpu_check.md``; a failed part's traceback in
    ``out_dir/errors.log``.

    Args:
        out_dir (str): The output folder (made if missing).
        smoke (bool): Every part on the CPU at tiny sizes.
        dist_train_script (str, optional): ``tools/dist_train.sh`` of a
            checkout, for the ``dist_train`` part.

    Returns:
        dict: ``mode``, ``seconds`` and ``parts``: ``{name: {'status':
        'ok' | 'failed: <line>', 'seconds', 'result'}}``.
    """
    if not smoke and not torch.cuda.is_available():
        raise ConfigError('no CUDA device; the smoke mode (--cpu-smoke) '
                          'runs the check on the CPU at tiny sizes')
    os.makedirs(out_dir, exist_ok=True)
    # only the parts' lines and the table on the console
    MMLogger.get_instance('gpu_check', log_level='WARNING')
    work_dir = tempfile.mkdtemp(prefix='gpu_check_')
    check = Check(smoke, work_dir, out_dir, dist_train_script)
    results = dict(mode='cpu-smoke' if smoke else 'gpu', parts={})
    start = time.perf_counter()
    try:
        for name, part in PARTS.items():
            part_start = time.perf_counter()
            try:
                results['parts'][name] = dict(status='ok', result=part(check))
            except Exception as e:  # recorded; the other parts still run
                results['parts'][name] = dict(
                    status=f'failed: {one_line(e)}')
                with open(osp.join(out_dir, 'errors.log'), 'a') as f:
                    f.write(f'{name}:\n{traceback.format_exc()}\n')
            results['parts'][name]['seconds'] = time.perf_counter() - \
                part_start
            print(f'{name}: {results["parts"][name]["status"]} '
                  f'({results["parts"][name]["seconds"]:.0f} s)', flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    results['seconds'] = time.perf_counter() - start
    with open(osp.join(out_dir, 'gpu_check.json'), 'w') as f:
        json.dump(results, f, indent=2, default=str)
    with open(osp.join(out_dir, 'gpu_check.md'), 'w') as f:
        f.write(markdown(results))
    return results
