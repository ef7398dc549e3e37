"""Write files so that a reader never sees half of one."""
import json
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator

# the temporary names of atomic_path: ``.<stem>.tmp<pid><ext>``
_TEMP_NAME = re.compile(r'\..+\.tmp\d+(\.[^.]*)?')


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it to
    ``path`` (atomic on one file system), on any error or Ctrl-C delete it.

    The temporary name keeps the extension (``.x.npz`` -> ``.x.tmp123.npz``)
    so writers that pick a format from it (numpy, cv2) still work. An
    ``OSError`` that names no file (a full disk: ``f.write`` raises
    ``ENOSPC`` without a name) is raised again naming ``path``.
    """
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = osp.splitext(name)
    tmp = osp.join(folder, f'.{stem}.tmp{os.getpid()}{ext}')
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        if e.filename is None and e.errno is not None:
            raise OSError(e.errno, e.strerror, path) from e
        raise
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def remove_temp_files(folder: str, ext: str) -> int:
    """Delete the temporary ``<ext>`` files of :func:`atomic_path` that
    killed processes left in ``folder`` (call it while no other process
    writes there); their number."""
    temps = [
        name for name in os.listdir(folder)
        if name.endswith(ext) and _TEMP_NAME.fullmatch(name)
    ]
    for name in temps:
        os.remove(osp.join(folder, name))
    return len(temps)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (numpy
    scalars and arrays as Python numbers and lists)."""
    write_text(path, json.dumps(data, indent=2, default=lambda v: v.tolist()))
