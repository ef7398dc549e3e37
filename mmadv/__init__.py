"""mmadv: end-to-end adversarial erasing for weakly-supervised semantic
segmentation, as an mmsegmentation plugin.

Importing the package first applies the compatibility fixes of
:mod:`mmadv.compat` (they must precede any ``mmseg.models`` import), then
imports the submodules so that their modules register into mmseg's
registries. Configs load it with
``custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)``.
"""
from .compat import apply_compat

apply_compat()

from . import datasets, engine, models, pseudo_labels  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
