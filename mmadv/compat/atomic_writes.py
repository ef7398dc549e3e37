"""mmengine's local file backend writes in place: a checkpoint cut short
by a full disk (or a kill) stays behind under its final name, where a
resumed training takes it for a complete one, and ``last_checkpoint`` can
name a file that holds half a checkpoint. Here ``LocalBackend.put`` and
``put_text`` (every checkpoint, ``last_checkpoint``, and what else
mmengine's ``fileio.put`` writes) write a temporary file beside the
target and rename it (:func:`mmadv.utils.atomic.atomic_path`): a reader
finds the whole file or the previous one, and a failed write leaves
nothing."""
from mmengine.fileio.backends import LocalBackend

from ..utils.atomic import atomic_path


def _put(self, obj: bytes, filepath) -> None:
    with atomic_path(str(filepath)) as tmp:
        with open(tmp, 'wb') as f:
            f.write(obj)


def _put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
    with atomic_path(str(filepath)) as tmp:
        with open(tmp, 'w', encoding=encoding) as f:
            f.write(obj)


def make_local_writes_atomic() -> None:
    """Make ``LocalBackend.put`` and ``put_text`` atomic (idempotent)."""
    LocalBackend.put = _put
    LocalBackend.put_text = _put_text
