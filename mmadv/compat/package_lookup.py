"""``mmseg::`` config inheritance without ``pkg_resources``, and without
reading mmseg's model index at every ``mmseg::`` base.

mmengine 0.10.7 resolves ``_base_ = 'mmseg::...'`` with
``mmengine.utils.is_installed`` and ``get_installed_path``, which import
``pkg_resources``; setuptools>=81 no longer ships it. When it is missing,
both are replaced by equivalents built on :mod:`importlib.metadata`, in
every module that imported them by name.

mmengine also parses every metafile of the package's model index (53
YAML files for mmseg 1.2.2, about 0.2 s) each time it resolves an
``mmseg::`` base, even a ``_base_/`` file that no metafile names; every
config of ours inherits one. :func:`get_cfg_metainfo` reads the index
once per package and process.
"""
import functools
import importlib.metadata
import importlib.util
import os.path as osp
import warnings
from typing import Dict


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


@functools.lru_cache(maxsize=None)
def config_index(package_path: str) -> Dict[str, dict]:
    """``{config name: model entry}`` of every metafile that
    ``<package_path>/.mim/model-index.yml`` imports, as mmengine's
    ``_get_cfg_metainfo`` collects them (the name is the entry's
    ``Config`` after its first folder, e.g. ``deeplabv3plus/deeplabv3plus_
    r50-d8_4xb4-20k_voc12aug-512x512.py``; a name's first entry wins),
    read once per ``package_path``."""
    from mmengine.fileio import load
    mim = osp.join(package_path, '.mim')
    configs: Dict[str, dict] = {}
    for meta_path in load(osp.join(mim, 'model-index.yml'))['Import']:
        for model in load(osp.join(mim, meta_path))['Models']:
            if 'Config' not in model:
                warnings.warn(f'There is not `Config` define in {model}')
                continue
            configs.setdefault(model['Config'].partition('/')[-1], model)
    return configs


def get_cfg_metainfo(package_path: str, cfg_path: str) -> dict:
    """mmengine's ``_get_cfg_metainfo`` on :func:`config_index`: the model
    entry of config ``cfg_path`` of the package.

    Raises:
        ValueError: No metafile names ``cfg_path`` (mmengine then takes it
            as a path under ``.mim/configs``, e.g. a ``_base_/`` file).
    """
    configs = config_index(package_path)
    if cfg_path not in configs:
        raise ValueError(f'Expected configs: {configs.keys()}, but got '
                         f'{cfg_path}')
    return dict(configs[cfg_path])


def index_mmengine_configs() -> None:
    """Make mmengine look configs up in :func:`config_index`, in every
    module that imported ``_get_cfg_metainfo`` by name."""
    import mmengine.config.utils as config_utils
    import mmengine.hub.hub as hub_module
    for module in (config_utils, hub_module):
        module._get_cfg_metainfo = get_cfg_metainfo


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
