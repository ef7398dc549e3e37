"""Speed and memory benchmarks, reported as numbers and ratios from one run
(:mod:`mmadv.benchmarks` says what each measures).

``train-step``: a method config's training iteration against its
baseline CAM config; ``infer-maps``: images/s of multi-scale + flip map
inference; ``pseudo-labels``: images/s of thresholding and of the dense
CRF; ``random-walk``: images/s of AffinityNet's walk; ``irn-walk``:
images/s of IRN's walk, by the stencil and (``--dense``) the dense
matrix; ``peak-memory``: the peak RSS of each per-image step at each image
size. On a GPU every benchmark also reports its peak GPU memory.
Example::

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
import json

import torch
from mmengine.config import DictAction
from mmengine.logging import print_log

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import PipelineSettings, RandomWalkSettings
from mmadv.benchmarks import (PEAK_STEPS, images_per_second_report,
                              infer_maps_benchmark, irn_walk_benchmark,
                              irn_walk_report, peak_memory_benchmark,
                              peak_memory_report, pseudo_labels_benchmark,
                              pseudo_labels_report, random_walk_benchmark,
                              train_step_benchmark, train_step_report)
from mmadv.structures import DEFAULT_BG_THRESHOLD


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='benchmark', required=True)
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
    walk = sub.add_parser('random-walk', help='random-walk images/s')
    walk.add_argument('config', help='AffinityNet config')
    walk.add_argument('--size', type=int, default=448)
    walk.add_argument('--images', type=int, default=5)
    RandomWalkSettings.add_arguments(walk, RandomWalkSettings.walk)
    irn = sub.add_parser('irn-walk', help="IRN's random walk")
    irn.add_argument('--size', type=int, default=512)
    irn.add_argument('--images', type=int, default=3)
    irn.add_argument('--dense', action='store_true',
                     help='also time the dense matrix')
    peak = sub.add_parser('peak-memory', help='peak RSS per step and size')
    peak.add_argument('--steps', nargs='+', choices=PEAK_STEPS,
                      default=list(PEAK_STEPS))
    peak.add_argument(
        '--sizes', nargs='+', default=['240x320', '375x500', '750x1000'],
        help='image sizes, <height>x<width>')
    peak.add_argument('--limit-gib', type=float, default=12.,
                      help='memory a step may take (default %(default)s)')
    for command in (step, infer, walk, irn):
        command.add_argument(
            '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    for command in (step, infer, walk):
        command.add_argument('--cfg-options', nargs='+', action=DictAction,
                             help='config overrides')
    for command in (step, infer, labels, walk, irn, peak):
        command.add_argument('--json', help='also write the results here')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.benchmark == 'infer-maps':
        results = infer_maps_benchmark(
            args.config, args.height, args.width, args.scales, args.flip,
            args.images, args.warmup, args.device, args.cfg_options)
        report = images_per_second_report('map inference', results)
    elif args.benchmark == 'random-walk':
        results = random_walk_benchmark(
            args.config, args.size, args.images, args.bg_alpha, args.beta,
            args.logt, args.device, args.cfg_options)
        report = images_per_second_report('random walk', results)
    elif args.benchmark == 'irn-walk':
        results = irn_walk_benchmark(args.size, args.images,
                                     dense=args.dense, device=args.device)
        report = irn_walk_report(results)
    elif args.benchmark == 'peak-memory':
        sizes = [tuple(map(int, size.split('x'))) for size in args.sizes]
        results = peak_memory_benchmark(args.steps, sizes, args.limit_gib)
        report = peak_memory_report(results, args.limit_gib)
    elif args.benchmark == 'pseudo-labels':
        results = pseudo_labels_benchmark(args.height, args.width,
                                          args.images, args.bg_threshold)
        report = pseudo_labels_report(results)
    else:
        results = train_step_benchmark(
            args.config, args.baseline, args.batch_size, args.size,
            args.iters, args.warmup, args.device, args.amp,
            args.channels_last, args.cfg_options, args.cfg_options)
        report = train_step_report(results)
    print_log(report, logger='current')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
