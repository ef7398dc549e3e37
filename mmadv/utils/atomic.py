"""Write files so that a reader never sees half of one."""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it to
    ``path`` (atomic on one file system), on any error or Ctrl-C delete it.

    The temporary name keeps the extension (``.x.npz`` -> ``.x.tmp123.npz``)
    so writers that pick a format from it (numpy, cv2) still work.
    """
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = osp.splitext(name)
    tmp = osp.join(folder, f'.{stem}.tmp{os.getpid()}{ext}')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (numpy
    scalars and arrays as Python numbers and lists)."""
    write_text(path, json.dumps(data, indent=2, default=lambda v: v.tolist()))
