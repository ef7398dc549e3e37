"""A config's text (``Config.pretty_text``) is yapf's, formatted once for
the same text."""
import os.path as osp

import mmengine.config.config as config_module
from conftest import REPO
from mmengine.config import Config
from yapf.yapflib import yapf_api

import mmadv  # noqa: F401
from mmadv.compat import config_text


def test_a_configs_text_is_yapfs_formatted_once(monkeypatch):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'adv_erase_r38_voc.py'))
    calls = []
    yapf = yapf_api.FormatCode
    monkeypatch.setattr(yapf_api, 'FormatCode',
                        lambda *args, **kwargs: calls.append(args[0]) or
                        yapf(*args, **kwargs))
    config_text._formatted.cache_clear()
    text = cfg.pretty_text
    assert cfg.pretty_text == text and len(calls) == 1
    cfg.work_dir = 'elsewhere'  # another text: formatted again
    other = cfg.pretty_text
    assert "work_dir = 'elsewhere'" in other and len(calls) == 2
    # mmengine with yapf's own function: the same text
    monkeypatch.setattr(config_module, 'FormatCode', yapf)
    assert cfg.pretty_text == other
