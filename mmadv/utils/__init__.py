from .atomic import atomic_path
from .cli import add_runner_args, enable_amp, load_runner_config

__all__ = [
    'atomic_path', 'add_runner_args', 'load_runner_config', 'enable_amp'
]
