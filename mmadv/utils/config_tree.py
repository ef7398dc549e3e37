"""The nested dicts of a config, each with its dotted key."""
from typing import Iterator, Tuple


def config_dicts(node, key: str) -> Iterator[Tuple[str, dict]]:
    """Every ``(dotted key, dict)`` of the dicts nested in ``node`` (itself
    included) through dicts and lists, in pre-order; e.g. ``('model.
    decode_head', {...})`` or ``('train_dataloader.dataset.pipeline.2',
    {...})``."""
    if isinstance(node, dict):
        yield key, node
        for name, value in node.items():
            yield from config_dicts(value, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from config_dicts(value, f'{key}.{i}')
