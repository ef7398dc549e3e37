"""What current torch, setuptools and mmcv-lite need, applied in one call
(and mmengine's launcher on CPU, and its checkpoint writes made atomic).

Each fix is a no-op where its trap is absent (full mmcv installed,
``pkg_resources`` present); mmengine reads mmseg's model index once a
process instead of at every ``mmseg::`` base, and formats the text of a
config once instead of at every dump, log and checkpoint.
"""
from .atomic_writes import make_local_writes_atomic
from .checkpoint_loading import (MMENGINE_CHECKPOINT_GLOBALS,
                                 allow_mmengine_checkpoint_types,
                                 load_mmengine_checkpoint,
                                 resume_without_running_checkpoint_code)
from .config_text import remember_config_formatting
from .cpu_distributed import allow_cpu_distributed, init_dist_pytorch
from .mmcv_ops import has_compiled_mmcv_ops, install_mmcv_ops_fallback
from .package_lookup import (index_mmengine_configs,
                             patch_mmengine_package_lookup)


def apply_compat() -> None:
    """Apply every compatibility fix; safe to call more than once."""
    install_mmcv_ops_fallback()
    patch_mmengine_package_lookup()
    index_mmengine_configs()
    remember_config_formatting()
    allow_mmengine_checkpoint_types()
    resume_without_running_checkpoint_code()
    allow_cpu_distributed()
    make_local_writes_atomic()


__all__ = [
    'apply_compat', 'install_mmcv_ops_fallback', 'has_compiled_mmcv_ops',
    'patch_mmengine_package_lookup', 'index_mmengine_configs',
    'remember_config_formatting',
    'allow_mmengine_checkpoint_types',
    'load_mmengine_checkpoint', 'MMENGINE_CHECKPOINT_GLOBALS',
    'resume_without_running_checkpoint_code',
    'allow_cpu_distributed', 'init_dist_pytorch', 'make_local_writes_atomic'
]
