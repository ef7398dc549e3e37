"""mmengine's process-wide named instances (loggers, message hubs,
visualizers, default scopes), kept from leaking from one step of a process
into the next."""
import contextlib
import itertools
import logging
from typing import Iterator, List, Type

from mmengine.utils import ManagerMixin

_counter = itertools.count()


def unique_name(prefix: str) -> str:
    """``<prefix>_<n>`` with ``n`` new in this process: a name no
    instance has yet."""
    return f'{prefix}_{next(_counter)}'


def _managers(cls: Type = ManagerMixin) -> List[Type]:
    """``cls`` and its subclasses, recursively (each has its own
    instances)."""
    return [cls] + [m for sub in cls.__subclasses__() for m in _managers(sub)]


@contextlib.contextmanager
def forget_new_instances() -> Iterator[None]:
    """On exit, forget the instances created inside the block (closing
    the handlers of its loggers), so that the next block's
    ``get_current_instance`` cannot return one of them, and none keeps
    writing into a folder or stream of this block."""
    before = {cls: set(cls._instance_dict) for cls in _managers()}
    try:
        yield
    finally:
        for cls in _managers():
            for name in set(cls._instance_dict) - before.get(cls, set()):
                instance = cls._instance_dict.pop(name)
                if isinstance(instance, logging.Logger):
                    for handler in instance.handlers:
                        handler.close()
