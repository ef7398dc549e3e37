"""Resume mmengine checkpoints on torch>=2.6 with ``weights_only=True``.

torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine
0.10.7 calls ``torch.load(filename, map_location=...)`` without the
argument, so ``resume`` fails on the message hub that every mmengine
checkpoint holds. Instead of turning ``weights_only`` off, the local
checkpoint loader of mmengine is wrapped so that, while it loads, the
unpickler also accepts exactly the types an mmengine checkpoint holds
(:data:`MMENGINE_CHECKPOINT_GLOBALS`):

* ``mmengine.logging.HistoryBuffer`` (the logged scalars) and
  ``builtins.getattr``, because the buffer's statistic methods
  (``HistoryBuffer.min`` ...) pickle as ``getattr(HistoryBuffer, 'min')``.
  The unpickler still refuses to *call* anything not allow-listed, so this
  only looks attributes up;
* numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``,
  ``dtype`` and its numeric subclasses, ``scalar``), under both the numpy 1
  (``numpy.core``) and numpy 2 (``numpy._core``) module names.

Nothing is added to torch's process-wide allow-list: outside mmengine's
checkpoint loading ``torch.load`` behaves as torch ships it.
"""
import builtins
from typing import Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _multiarray

SafeGlobal = Union[Callable, Tuple[Callable, str]]

_NUMERIC_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                   'uint16', 'uint32', 'uint64', 'float16', 'float32',
                   'float64')


def _both_numpy_names(obj: Callable) -> List[SafeGlobal]:
    name = obj.__name__
    return [(obj, f'numpy.core.multiarray.{name}'),
            (obj, f'numpy._core.multiarray.{name}')]


MMENGINE_CHECKPOINT_GLOBALS: List[SafeGlobal] = [
    HistoryBuffer,
    builtins.getattr,
    np.ndarray,
    np.dtype,
    *(type(np.dtype(name)) for name in _NUMERIC_DTYPES),
    *_both_numpy_names(_multiarray._reconstruct),
    *_both_numpy_names(_multiarray.scalar),
]


def load_mmengine_checkpoint(filename: str, map_location=None):
    """mmengine's ``load_from_local`` with the checkpoint types allowed."""
    with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
        return load_from_local(filename, map_location)


def allow_mmengine_checkpoint_types() -> None:
    """Make mmengine load local checkpoints through
    :func:`load_mmengine_checkpoint` (a no-op before torch 2.6 would be
    harmless too, the context only widens what ``weights_only`` accepts)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_mmengine_checkpoint, force=True)
