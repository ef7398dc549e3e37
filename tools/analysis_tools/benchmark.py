"""Speed and memory benchmarks, reported as numbers and ratios from one run.

``train-step``: one training iteration of a method config against the
baseline CAM config with the same localizer, batch and input size, on
random images with random labels. The full method alternates localizer
and adversary blocks, so both phases are timed; its mean iteration is the
mean of the two weighted by the block lengths of the config.

``infer-maps``: images/s of multi-scale + flip map inference
(``tools/infer_cam.py``'s :func:`multi_scale_maps`) with a config's
localizer on random images.

``pseudo-labels``: images/s of the ``ThresholdLabeler`` on random smooth
maps and images, thresholding alone and with the dense CRF, and their
ratio (one process; ``tools/make_pseudo_labels.py --workers N`` runs N).

``random-walk``: images/s of AffinityNet's random-walk refinement
(:func:`~mmadv.pseudo_labels.random_walk.refine_maps`: embedding, dense
affinity matrix, ``2^logt`` steps) with an affinity config's model on
random images, e.g. at the demo's 64 x 64 or VOC's 448 x 448.

Example::

    python tools/analysis_tools/benchmark.py train-step \\
        configs/adv_erase_r38_voc.py configs/cam_r38_voc.py \\
        --batch-size 2 --size 64 --iters 5
    python tools/analysis_tools/benchmark.py infer-maps \\
        configs/adv_erase_r38_voc.py --height 96 --width 128 --images 4
    python tools/analysis_tools/benchmark.py pseudo-labels --images 20
    python tools/analysis_tools/benchmark.py random-walk \\
        configs/demo/affinity_demo.py --size 64 --images 50
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmadv  # noqa: F401
from mmadv.apis import PipelineSettings, RandomWalkSettings
from mmadv.pseudo_labels import (DEFAULT_BG_THRESHOLD, ThresholdLabeler,
                                 embedding_stride, multi_scale_maps,
                                 refine_maps)


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


def build(config, size, device):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.data_preprocessor.size = (size, size)
    backbone = cfg.model.localizer.backbone
    if backbone.get('init_cfg'):
        backbone.init_cfg = None  # timing needs no pretrained weights
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    return cfg, model, build_optim_wrapper(model, cfg.optim_wrapper)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_phase(model, optim, batch, phase_iteration, iters, warmup, device):
    """Mean seconds of ``train_step`` with the model's counter set to
    ``phase_iteration`` before every step; peak CUDA memory in MiB."""
    for i in range(warmup + iters):
        if i == warmup:
            sync(device)
            if device.type == 'cuda':
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
        model.iteration.fill_(phase_iteration)
        model.train_step(batch, optim)
    sync(device)
    seconds = (time.perf_counter() - start) / iters
    peak = (torch.cuda.max_memory_allocated(device) / 2**20
            if device.type == 'cuda' else None)
    return seconds, peak


def train_step_benchmark(args):
    device = torch.device(args.device)
    results = {}
    for role, config in (('method', args.config),
                         ('baseline', args.baseline)):
        cfg, model, optim = build(config, args.size, device)
        batch = random_batch(args.batch_size, args.size,
                             model.localizer.num_classes)
        phases = {'localizer': 0}
        if model.with_adversary and not model.simultaneous:
            phases['adversary'] = model.localizer_iters
        row = {'config': config}
        for phase, iteration in phases.items():
            seconds, peak = time_phase(model, optim, batch, iteration,
                                       args.iters, args.warmup, device)
            row[f'{phase}_s'] = seconds
            row[f'{phase}_peak_mib'] = peak
        if 'adversary' in phases:
            weights = (model.localizer_iters, model.adversary_iters)
            row['iteration_s'] = (
                weights[0] * row['localizer_s'] +
                weights[1] * row['adversary_s']) / sum(weights)
        else:
            row['iteration_s'] = row['localizer_s']
        row['images_per_second'] = args.batch_size / row['iteration_s']
        results[role] = row
        del model, optim
    method, baseline = results['method'], results['baseline']
    results['ratio_iteration'] = method['iteration_s'] / baseline[
        'iteration_s']
    results['ratio_localizer_phase'] = method['localizer_s'] / baseline[
        'localizer_s']
    results['setup'] = dict(
        device=str(device), batch_size=args.batch_size, size=args.size,
        iters=args.iters, torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpu_max_rss_mib=resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024)
    return results


def infer_maps_benchmark(args):
    device = torch.device(args.device)
    _, model, _ = build(args.config, max(args.height, args.width), device)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(args.images + args.warmup, 3, args.height,
                         args.width, generator=gen).to(device)
    classes = torch.tensor([0, 1], device=device)
    for i, image in enumerate(images):
        if i == args.warmup:
            sync(device)
            start = time.perf_counter()
        multi_scale_maps(model.localizer, image, classes, args.scales,
                         not args.no_flip)
    sync(device)
    seconds = (time.perf_counter() - start) / args.images
    return dict(config=args.config, images_per_second=1 / seconds,
                setup=dict(device=str(device), height=args.height,
                           width=args.width, scales=args.scales,
                           flip=not args.no_flip, classes=2,
                           images=args.images,
                           threads=torch.get_num_threads()))


def pseudo_labels_benchmark(args):
    rng = np.random.default_rng(0)
    h, w = args.height, args.width
    # smooth maps in [0, 1]: upsampled coarse noise, as CAMs look
    coarse = rng.random((args.images, 2, h // 8 + 1, w // 8 + 1))
    maps = torch.nn.functional.interpolate(
        torch.from_numpy(coarse).float(), size=(h, w), mode='bilinear',
        align_corners=False).numpy()
    images = rng.integers(0, 256, (args.images, h, w, 3), dtype=np.uint8)
    classes = np.array([0, 14])
    results = dict(setup=dict(height=h, width=w, classes=2,
                              images=args.images, processes=1))
    for name, crf in (('threshold', None), ('crf', dict())):
        labeler = ThresholdLabeler(args.bg_threshold, crf=crf)
        start = time.perf_counter()
        for image, image_maps in zip(images, maps):
            labeler(classes, image_maps, image)
        seconds = (time.perf_counter() - start) / args.images
        results[f'{name}_images_per_second'] = 1 / seconds
    results['ratio_crf_threshold_time'] = (
        results['threshold_images_per_second'] /
        results['crf_images_per_second'])
    return results


def random_walk_benchmark(args):
    device = torch.device(args.device)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if cfg.model.backbone.get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # timing needs no weights
    model = MODELS.build(cfg.model).to(device).eval()
    stride = embedding_stride(model)
    gen = torch.Generator().manual_seed(0)
    size = args.size
    images = torch.randn(args.images + 1, 3, size, size, generator=gen)
    maps = torch.rand(args.images + 1, 2, size, size, generator=gen)
    classes = torch.tensor([0, 14])
    for i, (image, image_maps) in enumerate(zip(images, maps)):
        if i == 1:  # the first image is the warm-up
            sync(device)
            start = time.perf_counter()
        refine_maps(model, image.to(device), classes, image_maps.to(device),
                    args.bg_alpha, args.beta, args.logt, stride)
    sync(device)
    seconds = (time.perf_counter() - start) / args.images
    return dict(config=args.config, images_per_second=1 / seconds,
                setup=dict(device=str(device), size=size, classes=2,
                           stride=stride, bg_alpha=args.bg_alpha,
                           beta=args.beta, logt=args.logt,
                           images=args.images,
                           threads=torch.get_num_threads()))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='benchmark', required=True)
    step = sub.add_parser('train-step', help='method vs baseline iteration')
    step.add_argument('config', help='method config')
    step.add_argument('baseline', help='baseline CAM config')
    step.add_argument('--batch-size', type=int, default=8)
    step.add_argument('--size', type=int, default=448)
    step.add_argument('--iters', type=int, default=10)
    step.add_argument('--warmup', type=int, default=2)
    step.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    step.add_argument('--json', help='also write the results here')
    infer = sub.add_parser('infer-maps', help='map inference images/s')
    infer.add_argument('config', help='stage-1 config')
    infer.add_argument('--height', type=int, default=375)
    infer.add_argument('--width', type=int, default=500)
    infer.add_argument('--scales', type=float, nargs='+',
                       default=list(PipelineSettings.default('scales')))
    infer.add_argument('--no-flip', action='store_true')
    infer.add_argument('--images', type=int, default=10)
    infer.add_argument('--warmup', type=int, default=1)
    infer.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    infer.add_argument('--json', help='also write the results here')
    labels = sub.add_parser('pseudo-labels', help='pseudo-label images/s')
    labels.add_argument('--height', type=int, default=375)
    labels.add_argument('--width', type=int, default=500)
    labels.add_argument('--images', type=int, default=20)
    labels.add_argument('--bg-threshold', type=float,
                        default=DEFAULT_BG_THRESHOLD)
    labels.add_argument('--json', help='also write the results here')
    walk = sub.add_parser('random-walk', help='random-walk images/s')
    walk.add_argument('config', help='AffinityNet config')
    walk.add_argument('--size', type=int, default=448)
    walk.add_argument('--images', type=int, default=5)
    for name, kind in (('bg_alpha', float), ('beta', float), ('logt', int)):
        walk.add_argument('--' + name.replace('_', '-'), type=kind,
                          default=RandomWalkSettings.default(name))
    walk.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    walk.add_argument('--json', help='also write the results here')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.benchmark == 'infer-maps':
        results = infer_maps_benchmark(args)
        print_log(f'map inference {results["config"]}: '
                  f'{results["images_per_second"]:.2f} images/s '
                  f'({results["setup"]})', logger='current')
    elif args.benchmark == 'random-walk':
        results = random_walk_benchmark(args)
        print_log(f'random walk {results["config"]}: '
                  f'{results["images_per_second"]:.2f} images/s '
                  f'({results["setup"]})', logger='current')
    elif args.benchmark == 'pseudo-labels':
        results = pseudo_labels_benchmark(args)
        print_log(f'pseudo-labels: threshold '
                  f'{results["threshold_images_per_second"]:.1f} images/s, '
                  f'dense CRF {results["crf_images_per_second"]:.2f} '
                  f'images/s (CRF costs '
                  f'{results["ratio_crf_threshold_time"]:.0f}x the time; '
                  f'{results["setup"]})', logger='current')
    else:
        results = train_step_benchmark(args)
        report_train_step(results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


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


if __name__ == '__main__':
    main()
