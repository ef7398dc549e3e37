"""mmengine formats a config's text with yapf (``Config.pretty_text``) each
time it dumps the config, logs it at a Runner's start, keeps it in the
message hub and saves a checkpoint: about 0.2 s each, several times a
training. yapf's output depends on the text and the style only, so the
same text is formatted once a process."""
import functools
from typing import Tuple


@functools.lru_cache(maxsize=64)
def _formatted(source: str, style: tuple, options: tuple) -> Tuple[str, bool]:
    from yapf.yapflib.yapf_api import FormatCode
    return FormatCode(source, style_config=dict(style), **dict(options))


def format_code(unformatted_source: str,
                style_config: dict,
                **options) -> Tuple[str, bool]:
    """yapf's ``FormatCode(unformatted_source, style_config, **options)``
    as mmengine calls it, remembered for the last 64 texts: ``(formatted
    text, whether it changed)``."""
    return _formatted(unformatted_source,
                      tuple(sorted(style_config.items())),
                      tuple(sorted(options.items())))


def remember_config_formatting() -> None:
    """Make ``mmengine.config.Config.pretty_text`` use
    :func:`format_code`."""
    import mmengine.config.config as config_module
    config_module.FormatCode = format_code
