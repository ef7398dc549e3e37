"""``mmseg::`` config inheritance without ``pkg_resources``.

mmengine 0.10.7 resolves ``_base_ = 'mmseg::...'`` with
``mmengine.utils.is_installed`` and ``get_installed_path``, which import
``pkg_resources``; setuptools>=81 no longer ships it. When it is missing,
both are replaced by equivalents built on :mod:`importlib.metadata`, in
every module that imported them by name.
"""
import importlib.metadata
import importlib.util
import os.path as osp


def has_pkg_resources() -> bool:
    return importlib.util.find_spec('pkg_resources') is not None


def is_installed(package: str) -> bool:
    """Whether a distribution ``package`` is installed, or a module of that
    name is importable (mmengine's semantics)."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """Folder of the top-level module of distribution ``package``
    (``mmsegmentation`` -> ``.../site-packages/mmseg``)."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package, which is '
                               'invalid for `get_installed_path`')
        return osp.dirname(spec.origin)
    top_level = (dist.read_text('top_level.txt') or '').split()
    module = top_level[0] if top_level else package
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin is not None:
        return osp.dirname(spec.origin)
    return str(dist.locate_file(module))


def patch_mmengine_package_lookup() -> bool:
    """Install the replacements if ``pkg_resources`` is missing.

    Returns:
        bool: whether mmengine was patched.
    """
    if has_pkg_resources():
        return False
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    for module in (package_utils, utils_module, config_module, hub_module):
        if hasattr(module, 'is_installed'):
            module.is_installed = is_installed
        module.get_installed_path = get_installed_path
    return True
