"""``peak-memory``: the peak memory (RSS) of each per-image step at each
image size, each step and size in a fresh process, above that process's
memory once its models and inputs are made.

Steps (:data:`PEAK_STEPS`): map inference (PSA's scales and flip) with the
demo's localizer and with ResNet-38's (random weights), PSA's walk on a
stride-8 embedding, dense (:func:`~mmadv.benchmarks.dense_walk`, as PSA and
this package before the stencil) and by the stencil, IRN's walk on a
stride-4 boundary map, and the dense CRF over 21 labels. A step that needs
more than ``limit_gib`` fails instead of swapping, and is reported so
(Linux only: it reads ``/proc``).
"""
import functools
import multiprocessing
import resource
import time
from typing import Callable, Sequence

import numpy as np
import torch

from ..models.utils import pair_affinity
from ..pipeline.settings import PipelineSettings
from ..pseudo_labels import (DenseCRF, boundary_refine_maps, multi_scale_maps,
                             stencil_random_walk)
from ..refinements import IRNSettings, RandomWalkSettings
from .per_image import dense_walk
from .timing import build_for_training

# the localizers of map inference, by step
MAP_CONFIGS = {
    'maps-demo': 'configs/demo/adv_erase_demo.py',
    'maps-r38': 'configs/adv_erase_r38_voc.py'
}
PEAK_STEPS = (*MAP_CONFIGS, 'psa-walk-dense', 'psa-walk', 'irn-walk', 'crf')


def step_maker(step: str) -> Callable[[int, int], Callable[[], object]]:
    """``make(height, width)``: one run of the per-image ``step``
    (:data:`PEAK_STEPS`) on a random ``height x width`` image, its inputs
    made (its models are made once, here): 2 classes, PSA's and IRN's
    settings, a CRF over 21 labels."""
    gen = torch.Generator().manual_seed(0)
    if step in MAP_CONFIGS:
        _, model, _ = build_for_training(MAP_CONFIGS[step], 64,
                                         torch.device('cpu'))
        model.eval()
        views = (PipelineSettings.default('scales'),
                 PipelineSettings.default('flip'))
        return lambda height, width: functools.partial(
            multi_scale_maps, model.localizer,
            torch.randn(3, height, width, generator=gen),
            torch.tensor([0, 1]), *views)
    if step == 'irn-walk':
        walk = [IRNSettings.default(k) for k in ('radius', 'beta', 'logt')]
        return lambda height, width: functools.partial(
            boundary_refine_maps, torch.rand(2, height, width, generator=gen),
            torch.rand(-(-height // 4), -(-width // 4), generator=gen) / 2,
            4, *walk)
    if step == 'crf':

        def crf(height, width):
            rng = np.random.default_rng(0)
            probs = rng.random((21, height, width), dtype=np.float32)
            return functools.partial(
                DenseCRF(), rng.integers(0, 256, (height, width, 3),
                                         dtype=np.uint8), probs / probs.sum(0))

        return crf
    # PSA's walk (configs/affinity_r38_voc.py): a 448-channel embedding at
    # stride 8, its pairs within 5, the background and 2 classes' scores
    walk = dense_walk if step == 'psa-walk-dense' else stencil_random_walk
    exponents = [RandomWalkSettings.default(k) for k in ('beta', 'logt')]

    def psa_walk(height, width):
        grid = (-(-height // 8), -(-width // 8))
        embedding = torch.randn(1, 448, *grid, generator=gen)
        scores = torch.rand(3, *grid, generator=gen)
        return lambda: walk(
            scores, pair_affinity(embedding, 5, 'mean', 'psa')[0], 5,
            *exponents, 'psa')

    return psa_walk


def _kib(key: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, in KiB."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f
                    if line.startswith(key + ':'))


def _measure_step(step: str, height: int, width: int, limit_gib: float,
                  queue) -> None:
    """In a fresh process: the step's peak RSS above the RSS once its
    inputs are made (its ``baseline``), its data segment capped at that
    plus ``limit_gib`` (a step that needs more fails instead of pushing
    the machine into swap or the OOM killer). A run on a 64 x 64 image
    first loads what any first run loads."""
    make = step_maker(step)
    make(64, 64)()
    run = make(height, width)
    baseline = _kib('VmRSS')
    data = baseline * 1024 + int(limit_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # VmHWM = VmRSS: the peak from here on
    start = time.perf_counter()
    run()
    queue.put(dict(peak_mib=(_kib('VmHWM') - baseline) / 1024,
                   baseline_mib=baseline / 1024,
                   seconds=time.perf_counter() - start))


def peak_memory_benchmark(steps: Sequence[str] = PEAK_STEPS,
                          sizes: Sequence[Sequence[int]] = ((240, 320),
                                                            (375, 500),
                                                            (750, 1000)),
                          limit_gib: float = 12.) -> dict:
    """``{step: {'<h>x<w>': result}}``: each step's ``peak_mib``,
    ``baseline_mib`` and ``seconds`` at each size, or None where it did
    not fit in ``limit_gib`` (or failed otherwise); one fresh process
    each (the module docstring)."""
    context = multiprocessing.get_context('spawn')
    results = {}
    for step in steps:
        for height, width in sizes:
            queue = context.SimpleQueue()
            process = context.Process(
                target=_measure_step,
                args=(step, height, width, limit_gib, queue))
            process.start()
            process.join()
            results.setdefault(step, {})[f'{height}x{width}'] = (
                queue.get() if process.exitcode == 0 else None)
    return results
