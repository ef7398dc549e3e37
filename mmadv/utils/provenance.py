"""What made an output: content digests of the files it was made from,
and the changes between two records of it, as a message names them."""
import hashlib
import importlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

_digests: Dict[Tuple[str, int, int], str] = {}
# the libraries whose versions move a result (a fresh install moved the
# demo's numbers by up to half a point)
LIBRARIES = ('torch', 'mmengine', 'mmseg', 'timm', 'mmadv')


def library_versions() -> Dict[str, str]:
    """The version of each of :data:`LIBRARIES` as the module gives it
    (torch's with its build, ``2.14.1+cu130``)."""
    return {library: getattr(importlib.import_module(library),
                             '__version__', 'unknown')
            for library in LIBRARIES}


def file_sha256(path: str) -> str:
    """The SHA-256 hex digest of the file's content (a checkpoint replaced
    at the same path gets another); cached per path, size and mtime."""
    stat = os.stat(path)
    key = (osp.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def _flat(record: dict, prefix: str = '') -> dict:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


def _as_json(record: dict) -> dict:
    """``record`` as a JSON file holds it (tuples as lists, numpy values
    as numbers), so that a recorded and a new one compare."""
    return json.loads(json.dumps(record, default=lambda v: v.tolist()))


def changes(old: dict,
            new: dict,
            keys: Optional[Iterable[str]] = None) -> List[str]:
    """``'<key>: <old> now <new>'`` for every key (of ``keys``; default:
    all) whose value differs between ``old`` and ``new`` as JSON holds
    them (a missing key is None), nested dicts compared key by key
    (``'a.b: ...'``), in key order."""
    old, new = _as_json(old), _as_json(new)
    if keys is not None:
        old = {k: old.get(k) for k in keys}
        new = {k: new.get(k) for k in keys}
    old_flat, new_flat = _flat(old), _flat(new)
    return [
        f'{key}: {old_flat.get(key)!r} now {new_flat.get(key)!r}'
        for key in sorted(set(old_flat) | set(new_flat))
        if old_flat.get(key) != new_flat.get(key)
    ]
