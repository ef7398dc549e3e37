"""What the tools share: arguments, config loading, the ``--amp``
switch, joining torchrun's processes and turning errors into one line."""
import argparse
import errno
import logging
import os
import os.path as osp
import re
import traceback
from typing import Callable, Dict, Optional, TypeVar

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dist import init_dist, is_distributed
from mmengine.logging import print_log

from .console import erase_progress_bar
from .errors import ConfigError, MissingInputError, MMAdvError

T = TypeVar('T')


# what mmengine's registry raises for a config's unknown type or argument
_CONFIG_ERRORS = re.compile(
    r"^'?(\S+ is not in the \S+ registry)|"
    r'^(\S+\(\) (got an unexpected keyword argument|missing \d+ required).*)')


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug``: errors with their traceback (see
    :func:`run_tool`)."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an error, not only its line')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments every runner tool takes, as mmseg's tools do,
    and ``--debug``."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs merged into the '
        'config, e.g. model.backbone.depth=18 or key="[a,b]"; no white '
        'space is allowed')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_*.sh use pytorch via torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)


def add_inference_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of the map inference tools: the runner tools' and
    ``--device``, ``--workers``."""
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='default: cuda:LOCAL_RANK when CUDA is available, else cpu')
    parser.add_argument(
        '--workers',
        type=int,
        help='worker processes (default: the config\'s '
        'train_dataloader.num_workers)')
    add_runner_args(parser)


def options_by_prefix(options: Optional[dict], flag: str) -> Dict[str, dict]:
    """``<prefix>.<key>=<value>`` options (``DictAction``'s) as ``{prefix:
    {key: value}}``, e.g. ``--model-cfg-options seg.train_cfg.max_iters=4``
    as ``{'seg': {'train_cfg.max_iters': 4}}``.

    Raises:
        ConfigError: An option without a prefix, named with ``flag``.
    """
    grouped: Dict[str, dict] = {}
    for key, value in (options or {}).items():
        prefix, _, rest = key.partition('.')
        if not rest:
            raise ConfigError(f'{flag} {key}: name what it is for, e.g. '
                              f'seg.{key}')
        grouped.setdefault(prefix, {})[rest] = value
    return grouped


def load_runner_config(args: argparse.Namespace) -> Config:
    """Config with ``--cfg-options``, ``--launcher`` and the work dir
    applied (CLI > config > ``./work_dirs/<config name>``)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise MissingInputError(f'config {args.config} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        use_cpu_distributed(cfg)
    return cfg


def use_cpu_distributed(cfg: Config) -> None:
    """Run a distributed job on CPU processes: gloo instead of nccl, and
    DDP without ``device_ids`` (mmengine passes the local rank as a CUDA
    device otherwise)."""
    print_log('no CUDA: distributed training on CPU with gloo',
              logger='current', level=logging.WARNING)
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = ConfigDict(
            type='MMDistributedDataParallel', broadcast_buffers=False)
    cfg.model_wrapper_cfg.device_ids = None


def _to_amp(wrapper_cfg: ConfigDict, name: str) -> None:
    wrapper_type = wrapper_cfg.get('type', 'OptimWrapper')
    if wrapper_type == 'AmpOptimWrapper':
        print_log(f'AMP is already enabled for optim_wrapper {name}.',
                  logger='current', level=logging.WARNING)
        return
    if wrapper_type != 'OptimWrapper':
        raise ConfigError(f'--amp needs optim_wrapper{name} of type '
                          f'OptimWrapper, got {wrapper_type}')
    wrapper_cfg.type = 'AmpOptimWrapper'
    wrapper_cfg.setdefault('loss_scale', 'dynamic')


def enable_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper of ``cfg`` to ``AmpOptimWrapper``.

    A single wrapper (``optim_wrapper.type``) is switched as mmseg's
    ``--amp`` does. A multi-optimizer config (``optim_wrapper.constructor``
    plus one sub-dict per model attribute, e.g. ``localizer`` and
    ``adversary``) has each sub-wrapper switched.
    """
    optim_wrapper = cfg.optim_wrapper
    if 'optimizer' in optim_wrapper:
        _to_amp(optim_wrapper, '')
        return
    keys = [
        k for k, v in optim_wrapper.items()
        if isinstance(v, dict) and 'optimizer' in v
    ]
    if not keys:
        raise ConfigError('--amp found no optimizer in cfg.optim_wrapper')
    for key in keys:
        _to_amp(optim_wrapper[key], f'.{key}')


def _from_registry(error: BaseException) -> bool:
    """Whether ``error`` was raised while mmengine's registry built an
    object from a config (its traceback passes through it)."""
    frames = traceback.extract_tb(error.__traceback__)
    return any(f'mmengine{os.sep}registry{os.sep}' in frame.filename
               for frame in frames)


def error_line(error: BaseException) -> Optional[str]:
    """The one line a tool prints for ``error``, or None for an error
    that is not the user's input (a bug: its traceback is shown).

    mmadv's errors give their message; one raised in a ``DataLoader``
    worker (which torch raises again with the worker's traceback as the
    message) gives the original message. A config's unknown type or
    argument (mmengine's registry) gives that sentence.
    """
    if isinstance(error, MMAdvError):
        lines = str(error).splitlines()
        if len(lines) > 1 and lines[0].startswith('Caught '):
            name = f'{type(error).__module__}.{type(error).__name__}: '
            return lines[-1][len(name):] if lines[-1].startswith(name) \
                else lines[-1]
        return str(error)
    if isinstance(error, (KeyError, TypeError)) and _from_registry(error):
        match = _CONFIG_ERRORS.match(str(error))
        if match:
            return (f'config: {match.group(1) or match.group(2)} (check the '
                    'type names and keys of the config; --debug shows the '
                    'traceback)')
    return None


# the errors of a device that is full: free space, then run again
_FULL = (errno.ENOSPC, errno.EDQUOT)
RERUN = 'run the same command again: it resumes where it stopped'


def run_tool(main: Callable[[], T],
             prog: str,
             debug: bool = False,
             rerun: str = RERUN) -> T:
    """``main()``, with the user's errors as one line (``<prog>: error:
    ...``, exit status 1, see :func:`error_line`), a full disk as one line
    naming the file it was writing and how to go on (``rerun``), and
    Ctrl-C as a hint to rerun (exit status 130), not tracebacks; with
    ``debug`` the errors keep their traceback. A progress bar left on the
    console is erased first."""
    try:
        return main()
    except (MMAdvError, KeyError, TypeError) as e:
        line = None if debug else error_line(e)
        if line is None:
            raise
        raise SystemExit(f'{prog}: error: {line}') from None
    except OSError as e:
        if debug or e.errno not in _FULL:
            raise
        where = f' writing {e.filename}' if e.filename else ''
        raise SystemExit(f'{prog}: error: no space left on the device'
                         f'{where}: free some space and {rerun}') from None
    except KeyboardInterrupt:
        erase_progress_bar()
        print_log('interrupted: run the same command again to resume',
                  logger='current', level=logging.WARNING)
        raise SystemExit(130) from None
    finally:  # before Python prints the message or a traceback
        erase_progress_bar()


def init_distributed_from_env() -> None:
    """Join torchrun's process group (``WORLD_SIZE > 1``): nccl with CUDA,
    gloo without; a no-op in a single process."""
    if int(os.environ.get('WORLD_SIZE', 1)) > 1 and not is_distributed():
        init_dist('pytorch',
                  backend='nccl' if torch.cuda.is_available() else 'gloo')
