"""What made a config's outputs, recorded so that its work directory can
be moved or copied and still resume: paths inside the work directory are
kept relative to it (``$WORK/maps_val``), and the frozen configs compared
as their settings with those paths relative, key by key.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List

from mmengine.config import Config

from ..utils.atomic import write_json, write_text
from ..utils.errors import InputError
from ..utils.provenance import changes

WORK = '$WORK'  # a record's name of the config's work directory


def relative(value: Any, root: str) -> Any:
    """``value`` (a record: dicts, lists, strings, numbers) with every
    path inside ``root`` as ``$WORK/<path relative to root>``."""
    if isinstance(value, dict):
        return {key: relative(item, root) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [relative(item, root) for item in value]
    if isinstance(value, str) and (value == root or value.startswith(
            root.rstrip('/') + '/')):
        return WORK + value[len(root.rstrip('/')):]
    return value


def absolute(value: Any, root: str) -> Any:
    """The inverse of :func:`relative`: ``$WORK`` as ``root``."""
    if isinstance(value, dict):
        return {key: absolute(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [absolute(item, root) for item in value]
    if isinstance(value, str) and (value == WORK
                                   or value.startswith(WORK + '/')):
        return root.rstrip('/') + value[len(WORK):]
    return value


def config_settings(cfg: Config, root: str) -> dict:
    """The settings of ``cfg`` as JSON holds them, paths inside ``root``
    relative (:func:`relative`)."""
    return relative(json.loads(json.dumps(cfg.to_dict(), default=str)),
                    root)


def config_digest(cfg: Config, root: str) -> str:
    """The SHA-256 of :func:`config_settings`: the same for a config moved
    with its work directory, another for other settings."""
    text = json.dumps(config_settings(cfg, root), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def changed_keys(old: dict, new: dict, limit: int = 3) -> str:
    """The first ``limit`` keys whose values differ (``key: old now
    new``), and how many more."""
    diff = changes(old, new)
    return ', '.join(diff[:limit]) + (
        f' and {len(diff) - limit} more' if len(diff) > limit else '')


def check_frozen(cfg: Config, path: str, root: str, what: str) -> bool:
    """Whether ``cfg`` is to be written to ``path`` (under ``root``):
    when ``path`` holds a config already, it must have the same settings
    (paths relative to the root it was written in, so a moved work
    directory keeps its configs, written again with its new paths), else
    a refusal names the first keys that differ.

    Raises:
        InputError: ``path`` holds another ``what``.
    """
    if not osp.isfile(path):
        return True
    old_root = root
    if osp.isfile(path + '.root'):
        with open(path + '.root') as f:
            old_root = f.read().strip()
    old = config_settings(Config.fromfile(path), old_root)
    new = config_settings(cfg, root)
    if old != new:
        raise InputError(
            f'{osp.dirname(osp.dirname(path))} was made with another '
            f'{what} ({changed_keys(old, new)}; {path}): choose another '
            'work dir or delete it')
    return old_root != root


def freeze_config(cfg: Config, path: str, root: str) -> None:
    """Write ``cfg`` to ``path``, the file its steps run, with the root it
    was written in beside it (``<path>.root``)."""
    write_text(path, cfg.pretty_text)
    write_text(path + '.root', root)


def read_record(path: str) -> Dict[str, Any]:
    with open(path) as f:
        return json.load(f)


def write_record(path: str, record: dict) -> None:
    write_json(path, record)


def refusal(title: str, outputs: List[str], old: dict, new: dict) -> str:
    """The message of a step whose outputs were made from ``old`` inputs
    and now would be from ``new``."""
    return (f'{title}: {", ".join(outputs)} made from other inputs '
            f'({changed_keys(old, new)}): delete '
            f'{"it" if len(outputs) == 1 else "them"} to make '
            f'{"it" if len(outputs) == 1 else "them"} again')
