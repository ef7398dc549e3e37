"""Speed and memory benchmarks, reported as numbers and ratios from one run.

``train-step``: one training iteration of a method config against the
baseline CAM config with the same localizer, batch and input size, on
random images with random labels. The full method alternates localizer
and adversary blocks, so both phases are timed; its mean iteration is the
mean of the two weighted by the block lengths of the config. ``--amp
float16|bfloat16`` times it through mmengine's ``AmpOptimWrapper`` (a
GPU), ``--channels-last`` with the networks in channels-last memory.

``infer-maps``: images/s of multi-scale + flip map inference
(:func:`~mmadv.pseudo_labels.multi_scale_maps`) with a config's
localizer on random images.

``pseudo-labels``: images/s of the ``ThresholdLabeler`` on random smooth
maps and images, thresholding alone and with the dense CRF, and their
ratio (one process; ``tools/make_pseudo_labels.py --workers N`` runs N).

``random-walk``: images/s of AffinityNet's random-walk refinement
(:func:`~mmadv.pseudo_labels.affinity_refine_maps`: embedding, pair affinities,
``2^logt`` stencil steps) with an affinity config's model on random
images, e.g. at the demo's 64 x 64 or VOC's 448 x 448.

``irn-walk``: images/s of IRN's semantic random walk
(:func:`~mmadv.pseudo_labels.boundary_walk.boundary_refine_maps`: boundary
affinities at stride 4, ``2^logt`` stencil steps) on random boundary maps
and maps, with the bytes of its stencil against the dense matrix IRN
builds; ``--dense`` also times the dense matrix of the same pairs and
``2^logt`` dense products (:func:`dense_walk`), for grids where it fits.

``peak-memory``: the peak memory (RSS) of each per-image step at each
image size, each step and size in a fresh process, above that process's
memory once its models and inputs are made: map inference (PSA's scales
and flip) with the demo's localizer and with ResNet-38's (random
weights), PSA's walk on a stride-8 embedding, dense (:func:`dense_walk`,
as PSA and this package before the stencil) and by the stencil, IRN's walk
on a stride-4 boundary map, and the dense CRF over 21 labels. A step that
needs more than ``--limit-gib`` fails instead of swapping, and is
reported so (Linux only: it reads ``/proc``).

On a GPU every benchmark also reports its peak GPU memory. Example::

    python tools/analysis_tools/benchmark.py train-step \\
        configs/adv_erase_r38_voc.py configs/cam_r38_voc.py \\
        --batch-size 2 --size 64 --iters 5
    python tools/analysis_tools/benchmark.py infer-maps \\
        configs/adv_erase_r38_voc.py --height 96 --width 128 --images 4
    python tools/analysis_tools/benchmark.py pseudo-labels --images 20
    python tools/analysis_tools/benchmark.py random-walk \\
        configs/demo/affinity_demo.py --size 64 --images 50
    python tools/analysis_tools/benchmark.py irn-walk --size 512 --images 3
    python tools/analysis_tools/benchmark.py peak-memory \\
        --sizes 240x320 375x500 750x1000 --steps psa-walk crf
"""
import argparse
import contextlib
import functools
import json
import multiprocessing
import os.path as osp
import resource
import time
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from prettytable import PrettyTable

import mmadv  # noqa: F401
from mmadv.apis import (IRNSettings, PipelineSettings, RandomWalkSettings,
                        fit_to_dataset)
from mmadv.models.utils import boundary_affinity, pair_affinity, pair_indices
from mmadv.pseudo_labels import (DenseCRF, ThresholdLabeler, embedding_stride,
                                 multi_scale_maps, affinity_refine_maps,
                                 stencil_random_walk)
from mmadv.pseudo_labels.boundary_walk import boundary_refine_maps
from mmadv.structures import DEFAULT_BG_THRESHOLD
from mmadv.utils import enable_amp


def random_batch(batch_size, size, num_classes, seed=0):
    """Random uint8 images and 1-2 random classes per image."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=gen,
                                    dtype=torch.uint8))
        labels = torch.zeros(num_classes)
        labels[torch.randperm(num_classes, generator=gen)[:1 + _ % 2]] = 1
        sample = SegDataSample(metainfo=dict(img_shape=(size, size)))
        sample.gt_class_labels = labels
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def load(config: str, cfg_options: Optional[dict] = None) -> Config:
    """The config with ``cfg_options``, fitted to its data set
    (:func:`~mmadv.apis.fit_to_dataset`), no pretrained weights (timing
    needs none) and its default scope set."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    fit_to_dataset(cfg)
    for part in (cfg.model, cfg.model.get('localizer')):
        if part and part.get('backbone', {}).get('init_cfg'):
            part.backbone.init_cfg = None
    return cfg


def amp_config(cfg: Config, dtype: str) -> None:
    """Every optimizer wrapper of ``cfg`` an ``AmpOptimWrapper`` computing
    in ``dtype`` (``'float16'`` or ``'bfloat16'``)."""
    enable_amp(cfg)
    wrappers = [cfg.optim_wrapper] if 'optimizer' in cfg.optim_wrapper else [
        w for w in cfg.optim_wrapper.values()
        if isinstance(w, dict) and 'optimizer' in w
    ]
    for wrapper in wrappers:
        wrapper.dtype = dtype


def build(config, size, device, amp=None, channels_last=False,
          cfg_options=None):
    cfg = load(config, cfg_options)
    cfg.model.data_preprocessor.size = (size, size)
    if amp:
        amp_config(cfg, amp)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return cfg, model, build_optim_wrapper(model, cfg.optim_wrapper)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def peak_memory(device: torch.device, result: dict,
                key: str = 'peak_mib') -> Iterator[None]:
    """``result[key]``: the peak GPU memory (MiB) of the block; None on the
    CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    yield
    result[key] = (torch.cuda.max_memory_allocated(device) /
                   2**20 if device.type == 'cuda' else None)


def time_phase(model, optim, batch, phase_iteration, iters, warmup, device):
    """Mean seconds of ``train_step`` with the model's counter set to
    ``phase_iteration`` before every step; peak CUDA memory in MiB."""
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
    """Both configs' iteration seconds, images/s and peak memory, and the
    method / baseline ratio (see the module docstring)."""
    device = torch.device(device)
    results = {}
    for role, path, options in (('method', config, cfg_options),
                                ('baseline', baseline, baseline_options)):
        cfg, model, optim = build(path, size, device, amp, channels_last,
                                  options)
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


def infer_maps_benchmark(config: str,
                         height: int = 375,
                         width: int = 500,
                         scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                         flip: bool = True,
                         images: int = 10,
                         warmup: int = 1,
                         device: str = 'cpu',
                         cfg_options: Optional[dict] = None) -> dict:
    device = torch.device(device)
    _, model, _ = build(config, max(height, width), device,
                        cfg_options=cfg_options)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    batch = torch.randn(images + warmup, 3, height, width,
                        generator=gen).to(device)
    classes = torch.tensor([0, 1], device=device)
    result = dict(config=config)
    for i, image in enumerate(batch):
        if i == warmup:
            sync(device)
            context = peak_memory(device, result)
            context.__enter__()
            start = time.perf_counter()
        multi_scale_maps(model.localizer, image, classes, scales, flip)
    sync(device)
    seconds = (time.perf_counter() - start) / images
    context.__exit__(None, None, None)
    return dict(result, images_per_second=1 / seconds,
                setup=dict(device=str(device), height=height, width=width,
                           scales=list(scales), flip=flip, classes=2,
                           images=images, threads=torch.get_num_threads()))


def pseudo_labels_benchmark(height: int = 375,
                            width: int = 500,
                            images: int = 20,
                            bg_threshold: float = DEFAULT_BG_THRESHOLD
                            ) -> dict:
    rng = np.random.default_rng(0)
    h, w = height, width
    # smooth maps in [0, 1]: upsampled coarse noise, as CAMs look
    coarse = rng.random((images, 2, h // 8 + 1, w // 8 + 1))
    maps = torch.nn.functional.interpolate(
        torch.from_numpy(coarse).float(), size=(h, w), mode='bilinear',
        align_corners=False).numpy()
    pictures = rng.integers(0, 256, (images, h, w, 3), dtype=np.uint8)
    classes = np.array([0, 14])
    results = dict(setup=dict(height=h, width=w, classes=2, images=images,
                              processes=1))
    for name, crf in (('threshold', None), ('crf', dict())):
        labeler = ThresholdLabeler(bg_threshold, crf=crf)
        start = time.perf_counter()
        for image, image_maps in zip(pictures, maps):
            labeler(classes, image_maps, image)
        seconds = (time.perf_counter() - start) / images
        results[f'{name}_images_per_second'] = 1 / seconds
    results['ratio_crf_threshold_time'] = (
        results['threshold_images_per_second'] /
        results['crf_images_per_second'])
    return results


def random_walk_benchmark(config: str,
                          size: int = 448,
                          images: int = 5,
                          bg_alpha: float = RandomWalkSettings.default(
                              'bg_alpha'),
                          beta: float = RandomWalkSettings.default('beta'),
                          logt: int = RandomWalkSettings.default('logt'),
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None) -> dict:
    device = torch.device(device)
    cfg = load(config, cfg_options)
    model = MODELS.build(cfg.model).to(device).eval()
    stride = embedding_stride(model)
    gen = torch.Generator().manual_seed(0)
    pictures = torch.randn(images + 1, 3, size, size, generator=gen)
    maps = torch.rand(images + 1, 2, size, size, generator=gen)
    classes = torch.tensor([0, 14])
    result = dict(config=config)
    for i, (image, image_maps) in enumerate(zip(pictures, maps)):
        if i == 1:  # the first image is the warm-up
            sync(device)
            context = peak_memory(device, result)
            context.__enter__()
            start = time.perf_counter()
        affinity_refine_maps(model, image.to(device), classes,
                             image_maps.to(device), bg_alpha, beta, logt,
                             stride)
    sync(device)
    seconds = (time.perf_counter() - start) / images
    context.__exit__(None, None, None)
    return dict(result, images_per_second=1 / seconds,
                setup=dict(device=str(device), size=size, classes=2,
                           stride=stride, bg_alpha=bg_alpha, beta=beta,
                           logt=logt, images=images,
                           threads=torch.get_num_threads()))


def dense_walk(scores: torch.Tensor,
               affinity: torch.Tensor,
               radius: int,
               beta: float,
               logt: int,
               rule: str = 'all') -> torch.Tensor:
    """:func:`~mmadv.pseudo_labels.stencil_random_walk` the way PSA's
    ``infer_aff.py`` (and this package before the stencil) runs it, the
    baseline of the benchmarks: the dense (hw, hw) matrix ``A`` of the
    pairs, their transposes and the identity, ``T = A^beta`` normalised
    by columns, then ``t = 2^logt`` products ``vec(s) T`` (``t C n^2``
    multiply-adds; PSA squares ``T`` ``logt`` times instead, which costs
    ``logt n^3``). Two (hw, hw) matrices, ``8 (hw)^2`` bytes in float32,
    are alive at its peak."""
    channels, height, width = scores.shape
    src, dst = pair_indices(height, width, radius, affinity.device, rule)
    matrix = torch.eye(height * width, dtype=affinity.dtype,
                       device=affinity.device)
    matrix[src, dst] = matrix[dst, src] = affinity
    trans = matrix.pow(beta)
    trans.div_(trans.sum(dim=0, keepdim=True))
    walked = scores.reshape(channels, -1).to(trans.dtype)
    for _ in range(2**logt):
        walked = walked @ trans
    return walked.reshape(scores.shape)


def irn_walk_benchmark(size: int = 512,
                       images: int = 3,
                       radius: int = 5,
                       beta: float = 10.,
                       logt: int = 8,
                       dense: bool = False,
                       device: str = 'cpu') -> dict:
    """IRN's walk (its radius 5, beta 10, 2^8 steps) of 2 maps of a size x
    size image on a stride-4 boundary map: the stencil walk, and with
    ``dense`` the dense (hw, hw) matrix and 2^logt dense products."""
    device = torch.device(device)
    grid = (size - 1) // 4 + 1  # IRN's stride-4 size
    gen = torch.Generator().manual_seed(0)
    boundary = torch.rand(images + 1, grid, grid, generator=gen) * 0.5
    maps = torch.rand(images + 1, 2, size, size, generator=gen)
    nodes = grid * grid
    num_pairs = pair_indices(grid, grid, radius, rule='all')[0].numel()
    result = dict(setup=dict(device=str(device), size=size, grid=grid,
                             radius=radius, beta=beta, logt=logt,
                             classes=2, images=images,
                             threads=torch.get_num_threads()),
                  # the stencil's weights and column sums
                  stencil_mib=(num_pairs + nodes) * 4 / 2**20,
                  dense_matrix_mib=nodes * nodes * 4 / 2**20)
    for route in ('stencil', 'dense') if dense else ('stencil', ):
        for i in range(images + 1):
            if i == 1:  # the first image is the warm-up
                sync(device)
                context = peak_memory(device, result, f'{route}_peak_mib')
                context.__enter__()
                start = time.perf_counter()
            b, m = boundary[i].to(device), maps[i].to(device)
            if route == 'stencil':
                boundary_refine_maps(m, b, radius, beta, logt)
            else:  # the dense matrix of the same pairs
                pairs = boundary_affinity(b[None], radius, 'all')[0]
                small = torch.nn.functional.interpolate(
                    m[None], size=(grid, grid), mode='bilinear')[0]
                dense_walk(small * (1 - b), pairs, radius, beta, logt)
        sync(device)
        context.__exit__(None, None, None)
        result[f'{route}_images_per_second'] = images / (
            time.perf_counter() - start)
    if dense:
        result['ratio_stencil_dense_speed'] = (
            result['stencil_images_per_second'] /
            result['dense_images_per_second'])
    result['max_rss_mib'] = resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
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
        _, model, _ = build(osp.join(REPO, MAP_CONFIGS[step]), 64,
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
            *walk)
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


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='benchmark', required=True)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    step = sub.add_parser('train-step', help='method vs baseline iteration')
    step.add_argument('config', help='method config')
    step.add_argument('baseline', help='baseline CAM config')
    step.add_argument('--batch-size', type=int, default=8)
    step.add_argument('--size', type=int, default=448)
    step.add_argument('--iters', type=int, default=10)
    step.add_argument('--warmup', type=int, default=2)
    step.add_argument('--amp', choices=['float16', 'bfloat16'])
    step.add_argument('--channels-last', action='store_true')
    infer = sub.add_parser('infer-maps', help='map inference images/s')
    infer.add_argument('config', help='stage-1 config')
    infer.add_argument('--height', type=int, default=375)
    infer.add_argument('--width', type=int, default=500)
    PipelineSettings.add_arguments(infer, ('scales', 'flip'))
    infer.add_argument('--images', type=int, default=10)
    infer.add_argument('--warmup', type=int, default=1)
    labels = sub.add_parser('pseudo-labels', help='pseudo-label images/s')
    labels.add_argument('--height', type=int, default=375)
    labels.add_argument('--width', type=int, default=500)
    labels.add_argument('--images', type=int, default=20)
    labels.add_argument('--bg-threshold', type=float,
                        default=DEFAULT_BG_THRESHOLD)
    walk_parser = sub.add_parser('random-walk', help='random-walk images/s')
    walk_parser.add_argument('config', help='AffinityNet config')
    walk_parser.add_argument('--size', type=int, default=448)
    walk_parser.add_argument('--images', type=int, default=5)
    RandomWalkSettings.add_arguments(walk_parser, RandomWalkSettings.walk)
    irn = sub.add_parser('irn-walk', help="IRN's random walk")
    irn.add_argument('--size', type=int, default=512)
    irn.add_argument('--images', type=int, default=3)
    irn.add_argument('--dense', action='store_true',
                     help='also time the dense matrix')
    irn.add_argument('--device', default=device)
    irn.add_argument('--json', help='also write the results here')
    peak = sub.add_parser('peak-memory', help='peak RSS per step and size')
    peak.add_argument('--steps', nargs='+', choices=PEAK_STEPS,
                      default=list(PEAK_STEPS))
    peak.add_argument(
        '--sizes', nargs='+', default=['240x320', '375x500', '750x1000'],
        help='image sizes, <height>x<width>')
    peak.add_argument('--limit-gib', type=float, default=12.,
                      help='memory a step may take (default %(default)s)')
    peak.add_argument('--json', help='also write the results here')
    for command in (step, infer, walk_parser):
        command.add_argument('--device', default=device)
        command.add_argument('--cfg-options', nargs='+', action=DictAction,
                             help='config overrides')
    for command in (step, infer, labels, walk_parser):
        command.add_argument('--json', help='also write the results here')
    return parser.parse_args()


def report_train_step(results):
    for role in ('method', 'baseline'):
        row = results[role]
        phases = ', '.join(
            f'{k[:-2]} {v * 1000:.1f} ms' for k, v in row.items()
            if k.endswith('_s') and k != 'iteration_s')
        peaks = ', '.join(
            f'{k[:-9]} {v:.0f} MiB' for k, v in row.items()
            if k.endswith('_peak_mib') and v is not None)
        print_log(f'{role:8s} {row["config"]}: iteration '
                  f'{row["iteration_s"] * 1000:.1f} ms '
                  f'({row["images_per_second"]:.2f} img/s; {phases})'
                  + (f'; peak {peaks}' if peaks else ''), logger='current')
    print_log(f'ratio method / baseline: iteration '
              f'{results["ratio_iteration"]:.2f}x, localizer phase '
              f'{results["ratio_localizer_phase"]:.2f}x '
              f'({results["setup"]})', logger='current')


def main():
    args = parse_args()
    if args.benchmark == 'infer-maps':
        results = infer_maps_benchmark(
            args.config, args.height, args.width, args.scales,
            args.flip, args.images, args.warmup, args.device,
            args.cfg_options)
        print_log(f'map inference {results["config"]}: '
                  f'{results["images_per_second"]:.2f} images/s '
                  f'({results["setup"]})', logger='current')
    elif args.benchmark == 'random-walk':
        results = random_walk_benchmark(
            args.config, args.size, args.images, args.bg_alpha, args.beta,
            args.logt, args.device, args.cfg_options)
        print_log(f'random walk {results["config"]}: '
                  f'{results["images_per_second"]:.2f} images/s '
                  f'({results["setup"]})', logger='current')
    elif args.benchmark == 'irn-walk':
        results = irn_walk_benchmark(args.size, args.images,
                                     dense=args.dense, device=args.device)
        routes = ', '.join(
            f'{r} {results[r + "_images_per_second"]:.2f} images/s'
            for r in ('stencil', 'dense')
            if r + '_images_per_second' in results)
        print_log(f'IRN walk: {routes}; the stencil\'s '
                  f'{results["stencil_mib"]:.2f} MiB against a dense matrix '
                  f'of {results["dense_matrix_mib"]:.1f} MiB; max RSS '
                  f'{results["max_rss_mib"]:.0f} MiB ({results["setup"]})',
                  logger='current')
    elif args.benchmark == 'peak-memory':
        sizes = [tuple(map(int, size.split('x'))) for size in args.sizes]
        results = peak_memory_benchmark(args.steps, sizes, args.limit_gib)
        table = PrettyTable(['step (peak MiB above baseline)', *args.sizes])
        for step, row in results.items():
            table.add_row([step] + [
                f'{r["peak_mib"]:.0f} ({r["seconds"]:.1f} s)' if r else
                f'over {args.limit_gib:g} GiB or failed'
                for r in row.values()
            ])
        print_log(f'peak RSS per image size (H x W):\n{table}',
                  logger='current')
    elif args.benchmark == 'pseudo-labels':
        results = pseudo_labels_benchmark(args.height, args.width,
                                          args.images, args.bg_threshold)
        print_log(f'pseudo-labels: threshold '
                  f'{results["threshold_images_per_second"]:.1f} images/s, '
                  f'dense CRF {results["crf_images_per_second"]:.2f} '
                  f'images/s (CRF costs '
                  f'{results["ratio_crf_threshold_time"]:.0f}x the time; '
                  f'{results["setup"]})', logger='current')
    else:
        results = train_step_benchmark(
            args.config, args.baseline, args.batch_size, args.size,
            args.iters, args.warmup, args.device, args.amp,
            args.channels_last, args.cfg_options, args.cfg_options)
        report_train_step(results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
