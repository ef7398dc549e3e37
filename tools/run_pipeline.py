"""The whole WSSS pipeline, in order, for one or more stage-1 configs
(:func:`mmadv.apis.run_pipeline`): stage 1, maps, their evaluation,
pseudo-labels, the segmentation network and its test, and a row for each
refinement of the maps a config asks for (``random_walk``, ``irn``,
``dense_crf``), each step skipped when done.

Settings (:class:`mmadv.apis.PipelineSettings`) come from a stage-1
config's ``wsss_pipeline`` dict and ``--pipeline-options key=value``.

Example::

    python tools/run_pipeline.py configs/cam_r38_voc.py \\
        configs/adv_erase_r38_voc.py --work-dir work_dirs/voc_pipeline
"""
import argparse

from mmengine.config import DictAction

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import run_pipeline
from mmadv.utils.cli import add_debug_arg, options_by_prefix, run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='stage-1 configs')
    parser.add_argument('--work-dir', default='work_dirs/pipeline')
    parser.add_argument('--data-root', help='override the configs\' root')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per step (torchrun) when > 1')
    parser.add_argument('--seed', type=int,
                        help='randomness.seed of every training (a network\'s '
                        'own --model-cfg-options seed beats it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='stage-1 config overrides')
    parser.add_argument('--model-cfg-options', nargs='+', action=DictAction,
                        help='overrides of the other networks\' configs, '
                        '<network>.<key>=<value> with <network> seg or a '
                        'refinement (random_walk, irn), e.g. '
                        'seg.train_cfg.max_iters=400')
    parser.add_argument('--pipeline-options', nargs='+', action=DictAction,
                        help='wsss_pipeline overrides, e.g. crf=True or '
                        'random_walk.logt=6')
    parser.add_argument('--verbose', action='store_true',
                        help='every log line on the console')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def pipeline_kwargs(args) -> dict:
    """:func:`run_pipeline`'s keyword arguments from the command line."""
    return dict(
        work_dir=args.work_dir,
        data_root=args.data_root,
        seed=args.seed,
        cfg_options=args.cfg_options,
        model_cfg_options=options_by_prefix(args.model_cfg_options,
                                            '--model-cfg-options'),
        pipeline_options=args.pipeline_options,
        gpus=args.gpus,
        verbose=args.verbose)


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run_tool(lambda: run_pipeline(args.configs, **pipeline_kwargs(
        args)), 'run_pipeline', args.debug)


if __name__ == '__main__':
    main()
