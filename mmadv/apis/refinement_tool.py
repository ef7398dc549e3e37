"""The command line of a refinement's map tool (``tools/infer_random_walk.py``
for :class:`~mmadv.apis.RandomWalkSettings`, ``tools/infer_irn.py`` for
:class:`~mmadv.apis.IRNSettings`), made from the refinement's settings: its
options are the settings of its maps (``walk``), with their defaults."""
import argparse
from typing import Dict, Type

from ..engine.model_loading import init_model
from ..pipeline import PipelineSettings
from ..refinements import ModelRefinement
from ..utils.cli import (add_inference_args, init_distributed_from_env,
                         load_runner_config)


def refinement_parser(kind: Type[ModelRefinement],
                      description: str) -> argparse.ArgumentParser:
    """The tool's arguments: the model config and checkpoint, the map
    folder, ``--split``, ``--out-dir``, one option per setting of
    ``kind.walk`` with its default
    (:meth:`~mmadv.utils.settings.Settings.add_arguments`) and those of
    :func:`~mmadv.utils.cli.add_inference_args`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=f'{kind.network} config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('map_dir', help='maps of tools/infer_cam.py')
    parser.add_argument(
        '--split',
        default=PipelineSettings.default('train_split'),
        help='image list ImageSets/Segmentation/<split>.txt')
    parser.add_argument(
        '--out-dir',
        help=f'refined map folder (default: <map_dir>{kind.tag})')
    kind.add_arguments(parser, kind.walk)
    PipelineSettings.add_arguments(parser, ('max_pixels', ))
    add_inference_args(parser)
    return parser


def refine_from_args(kind: Type[ModelRefinement],
                     args: argparse.Namespace) -> Dict[str, int]:
    """Write the refined maps of ``args`` (:func:`refinement_parser`) in
    this process: ``kind.map_writer``, with torchrun's processes sharing
    the images."""
    init_distributed_from_env()
    args.launcher = 'none'  # ranks share only the folder: no DDP
    model = init_model(load_runner_config(args), args.checkpoint,
                       args.device)
    out_dir = args.out_dir or args.map_dir.rstrip('/') + kind.tag
    return kind.map_writer(
        model, args.map_dir, args.split, out_dir, num_workers=args.workers,
        max_pixels=args.max_pixels,
        **{name: getattr(args, name) for name in kind.walk})
