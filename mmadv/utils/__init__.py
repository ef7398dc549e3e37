from .atomic import atomic_path, write_json, write_text
from .cli import add_runner_args, enable_amp, load_runner_config
from .errors import ConfigError, InputError, MissingInputError, MMAdvError

__all__ = [
    'atomic_path', 'write_json', 'write_text', 'add_runner_args',
    'load_runner_config', 'enable_amp', 'MMAdvError', 'ConfigError',
    'InputError', 'MissingInputError'
]
