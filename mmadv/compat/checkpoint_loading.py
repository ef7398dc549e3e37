"""Resume mmengine checkpoints on torch>=2.6 with ``weights_only=True``.

torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine
0.10.7 calls ``torch.load(filename, map_location=...)`` without the
argument, so ``resume`` fails on the message hub that every mmengine
checkpoint holds. Instead of turning ``weights_only`` off, the local
checkpoint loader of mmengine is wrapped so that, while it loads, the
unpickler also accepts exactly the types an mmengine checkpoint holds
(:data:`MMENGINE_CHECKPOINT_GLOBALS`):

* ``mmengine.logging.HistoryBuffer`` (the logged scalars). Its state holds
  its statistic methods (``HistoryBuffer.min`` ...), which pickle as
  ``getattr(HistoryBuffer, 'min')``; the name ``builtins.getattr`` is
  therefore bound to :func:`history_buffer_method`, which returns those
  methods and refuses every other attribute (the real ``getattr`` would
  reach any object's attributes, ``__builtins__`` included);
* numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``,
  ``dtype`` and its numeric subclasses, ``scalar``), under both the numpy 1
  (``numpy.core``) and numpy 2 (``numpy._core``) module names.

Nothing is added to torch's process-wide allow-list: outside mmengine's
checkpoint loading ``torch.load`` behaves as torch ships it.

``Runner.resume`` of mmengine 0.10 parses a checkpoint's
``meta['config']`` as Python (``Config.fromstring(..., '.py')``), only to
read a legacy ``gpu_ids``; the Runner itself writes its config to
``meta['cfg']``, never there. :func:`resume_without_running_checkpoint_code`
drops that key from what ``Runner.load_checkpoint`` returns, so a resume
executes nothing a checkpoint carries.
"""
import functools
import pickle
from typing import Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner
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


# the methods a HistoryBuffer's state names; a fixed set, not the class's
# ``_statistics_methods``, which a checkpoint's own HistoryBuffer state
# extends while it loads (``__setstate__``)
HISTORY_BUFFER_METHODS = frozenset(('min', 'max', 'current', 'mean'))


def history_buffer_method(owner: type, name: str) -> Callable:
    """``getattr(owner, name)`` for a statistic method of
    ``HistoryBuffer`` (:data:`HISTORY_BUFFER_METHODS`).

    Raises:
        pickle.UnpicklingError: Any other owner or attribute.
    """
    if owner is not HistoryBuffer or name not in HISTORY_BUFFER_METHODS:
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only '
            'HistoryBuffer\'s statistic methods '
            f'{sorted(HISTORY_BUFFER_METHODS)} are allowed')
    return getattr(HistoryBuffer, name)


MMENGINE_CHECKPOINT_GLOBALS: List[SafeGlobal] = [
    HistoryBuffer,
    (history_buffer_method, 'builtins.getattr'),
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


def resume_without_running_checkpoint_code() -> None:
    """Make ``Runner.load_checkpoint`` (which ``Runner.resume`` calls) drop
    ``meta['config']``, the text ``resume`` would execute; idempotent."""
    original = Runner.load_checkpoint
    if getattr(original, 'drops_meta_config', False):
        return

    @functools.wraps(original)
    def load_checkpoint(self, *args, **kwargs):
        checkpoint = original(self, *args, **kwargs)
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) \
            else None
        if isinstance(meta, dict):
            meta.pop('config', None)
        return checkpoint

    load_checkpoint.drops_meta_config = True
    Runner.load_checkpoint = load_checkpoint
