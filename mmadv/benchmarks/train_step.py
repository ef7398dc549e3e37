"""``train-step``: one training iteration of a method config against its
baseline CAM config (the same localizer, batch and input size), on random
images with random labels.

The full method alternates localizer and adversary blocks, so both phases
are timed; its mean iteration is the mean of the two weighted by the
config's block lengths:
``t = (n_loc t_loc + n_adv t_adv) / (n_loc + n_adv)``. ``amp``
(``'float16'`` or ``'bfloat16'``) times it through mmengine's
``AmpOptimWrapper`` (a GPU), ``channels_last`` with the networks in
channels-last memory.
"""
import resource
import time
from typing import Optional, Tuple

import torch

from .timing import build_for_training, peak_memory, random_batch, sync


def time_phase(model, optim, batch: dict, phase_iteration: int, iters: int,
               warmup: int, device: torch.device
               ) -> Tuple[float, Optional[float]]:
    """``(seconds, peak_mib)``: the mean seconds of ``train_step`` with the
    model's counter set to ``phase_iteration`` before every step (so that
    each step is of that phase), and the peak GPU memory (None on the
    CPU)."""
    memory = {}
    for i in range(warmup + iters):
        if i == warmup:
            sync(device)
            context = peak_memory(device, memory)
            context.__enter__()
            start = time.perf_counter()
        model.iteration.fill_(phase_iteration)
        model.train_step(batch, optim)
    sync(device)
    seconds = (time.perf_counter() - start) / iters
    context.__exit__(None, None, None)
    return seconds, memory['peak_mib']


def train_step_benchmark(config: str,
                         baseline: str,
                         batch_size: int = 8,
                         size: int = 448,
                         iters: int = 10,
                         warmup: int = 2,
                         device: str = 'cpu',
                         amp: Optional[str] = None,
                         channels_last: bool = False,
                         cfg_options: Optional[dict] = None,
                         baseline_options: Optional[dict] = None) -> dict:
    """Both configs' iteration seconds, images/s and peak memory, measured
    one after the other in this process, and their ratios.

    Returns:
        dict: ``method`` and ``baseline`` rows (``config``,
        ``<phase>_s``, ``<phase>_peak_mib``, ``iteration_s``,
        ``images_per_second``), ``ratio_iteration`` (method / baseline
        seconds), ``ratio_localizer_phase`` and ``setup``.
    """
    device = torch.device(device)
    results = {}
    for role, path, options in (('method', config, cfg_options),
                                ('baseline', baseline, baseline_options)):
        _, model, optim = build_for_training(path, size, device, amp,
                                             channels_last, options)
        batch = random_batch(batch_size, size, model.localizer.num_classes)
        phases = {'localizer': 0}
        if model.with_adversary and not model.simultaneous:
            phases['adversary'] = model.localizer_iters
        row = {'config': path}
        for phase, iteration in phases.items():
            seconds, peak = time_phase(model, optim, batch, iteration, iters,
                                       warmup, device)
            row[f'{phase}_s'] = seconds
            row[f'{phase}_peak_mib'] = peak
        if 'adversary' in phases:
            weights = (model.localizer_iters, model.adversary_iters)
            row['iteration_s'] = (
                weights[0] * row['localizer_s'] +
                weights[1] * row['adversary_s']) / sum(weights)
        else:
            row['iteration_s'] = row['localizer_s']
        row['images_per_second'] = batch_size / row['iteration_s']
        results[role] = row
        del model, optim
    method, baseline = results['method'], results['baseline']
    results['ratio_iteration'] = method['iteration_s'] / baseline[
        'iteration_s']
    results['ratio_localizer_phase'] = method['localizer_s'] / baseline[
        'localizer_s']
    results['setup'] = dict(
        device=str(device), batch_size=batch_size, size=size, iters=iters,
        amp=amp, channels_last=channels_last, torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpu_max_rss_mib=resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024)
    return results
