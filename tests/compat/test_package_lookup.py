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
