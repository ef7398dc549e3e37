import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

import mmadv  # noqa: F401
from mmadv.compat import package_lookup

STOCK_VOC_CFG = ('deeplabv3plus/'
                 'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py')


def test_installed_path_of_distribution_with_other_module_name():
    import mmseg
    assert package_lookup.get_installed_path('mmsegmentation') == \
        osp.dirname(mmseg.__file__)
    assert package_lookup.is_installed('mmsegmentation')
    assert package_lookup.is_installed('mmseg')  # importable module name
    assert not package_lookup.is_installed('no_such_package_mmadv')


def test_patch_is_noop_when_pkg_resources_present(monkeypatch):
    import mmengine.config.config as config_module
    before = config_module.get_installed_path
    monkeypatch.setattr(package_lookup, 'has_pkg_resources', lambda: True)
    assert package_lookup.patch_mmengine_package_lookup() is False
    assert config_module.get_installed_path is before


def test_patch_when_pkg_resources_missing(monkeypatch):
    import mmengine.config.config as config_module
    import mmengine.utils as utils_module
    monkeypatch.setattr(package_lookup, 'has_pkg_resources', lambda: False)
    monkeypatch.setattr(config_module, 'is_installed', None)
    assert package_lookup.patch_mmengine_package_lookup() is True
    assert config_module.is_installed is package_lookup.is_installed
    assert utils_module.get_installed_path is \
        package_lookup.get_installed_path


def test_mmseg_scope_inheritance(tmp_path):
    cfg_file = tmp_path / 'child.py'
    cfg_file.write_text(f"_base_ = ['mmseg::{STOCK_VOC_CFG}']\n"
                        'model = dict(decode_head=dict(num_classes=7))\n')
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.type == 'EncoderDecoder'
    assert cfg.model.backbone.depth == 50
    assert cfg.model.decode_head.type == 'DepthwiseSeparableASPPHead'
    assert cfg.model.decode_head.num_classes == 7
    assert cfg.train_dataloader.dataset.type == 'ConcatDataset'


def test_missing_package_error(tmp_path):
    cfg_file = tmp_path / 'child.py'
    cfg_file.write_text("_base_ = ['mmseg::no_such/config.py']\n")
    with pytest.raises(FileNotFoundError):
        Config.fromfile(str(cfg_file))


def test_config_index_gives_mmengines_entries_reading_the_index_once(
        monkeypatch):
    """The indexed lookup gives mmengine's own ``_get_cfg_metainfo``'s
    entry of a stock config and its ValueError for a base file (which
    mmengine then finds by its path), and the metafiles are read only on
    the first lookup of a package."""
    import mmengine.config.utils as config_utils
    import mmengine.fileio
    import mmseg
    package = osp.dirname(mmseg.__file__)
    name = STOCK_VOC_CFG  # the metafiles' names keep the suffix
    assert config_utils._get_cfg_metainfo is package_lookup.get_cfg_metainfo
    # mmengine's own function, from a fresh copy of its module
    spec = importlib.util.spec_from_file_location('mmengine_config_utils',
                                                  config_utils.__file__)
    mmengines = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mmengines)
    reads = []
    load = mmengine.fileio.load
    monkeypatch.setattr(mmengine.fileio, 'load',
                        lambda path: reads.append(path) or load(path))
    package_lookup.config_index.cache_clear()
    entry = package_lookup.get_cfg_metainfo(package, name)
    assert len(reads) == 53  # model-index.yml and its 52 metafiles
    with pytest.raises(ValueError, match='but got _base_/default_runtime'):
        package_lookup.get_cfg_metainfo(package, '_base_/default_runtime')
    assert package_lookup.get_cfg_metainfo(package, name) == entry
    assert len(reads) == 53
    assert entry['Config'] == f'configs/{STOCK_VOC_CFG}'
    assert entry == mmengines._get_cfg_metainfo(package, name)
    with pytest.raises(ValueError):
        mmengines._get_cfg_metainfo(package, '_base_/default_runtime')
