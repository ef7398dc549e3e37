"""Where a step's work runs: in this process, or, with several GPUs, in
one process per GPU under ``torchrun``.

A step names its work as a function by its import path and keyword
arguments that JSON can hold (configs, checkpoints and folders by their
paths), e.g. ``('mmadv.engine.training:train_from_file', dict(config=...,
work_dir=...))``. :class:`Launcher` calls it here and returns its
result; with ``gpus > 1`` it starts ``torchrun -m
mmadv.pipeline.launcher <json>``, whose processes join the process group
and call it each (a training as mmengine's distributed Runner, map
inference sharded over the ranks), and returns None: the work's outputs
are on disk. Every line of the processes goes to ``sys.stdout``, the
step's log.
"""
import importlib
import json
import shlex
import subprocess
import sys
from typing import Any, Optional, Sequence

from ..utils.cli import init_distributed_from_env
from ..utils.errors import InputError


def call(function: str, kwargs: dict) -> Any:
    """``function`` (``'package.module:name'``) called with ``kwargs``."""
    module, name = function.split(':')
    return getattr(importlib.import_module(module), name)(**kwargs)


class Launcher:
    """Runs a step's work here (``gpus <= 1``) or under torchrun.

    Args:
        gpus (int): Processes (GPUs) per step. Defaults to 1.
    """

    def __init__(self, gpus: int = 1) -> None:
        self.gpus = gpus

    def __call__(self, function: str, **kwargs) -> Any:
        """The result of ``function(**kwargs)`` here, or None after
        ``gpus`` torchrun processes ran it.

        Raises:
            InputError: torchrun failed, naming its command.
        """
        if self.gpus <= 1:
            return call(function, kwargs)
        cmd = [
            sys.executable, '-m', 'torch.distributed.run', '--standalone',
            f'--nproc_per_node={self.gpus}', '-m', 'mmadv.pipeline.launcher',
            json.dumps(dict(function=function, kwargs=kwargs))
        ]
        # every line into the step's log (and the console with verbose),
        # which is where sys.stdout points
        with subprocess.Popen(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors='replace') as proc:
            try:
                for line in proc.stdout:
                    sys.stdout.write(line)
            except BaseException:  # Ctrl-C, a full disk: stop torchrun
                proc.kill()
                raise
        if proc.returncode != 0:
            raise InputError(f'{function} failed under torchrun (exit '
                             f'{proc.returncode}): {shlex.join(cmd)}')
        return None


def main(argv: Optional[Sequence[str]] = None) -> None:
    """A torchrun process: join the process group, call the function of
    the JSON argument."""
    import mmadv  # noqa: F401  (the compat fixes, the registries)
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    init_distributed_from_env()
    call(spec['function'], spec['kwargs'])


if __name__ == '__main__':
    main()
