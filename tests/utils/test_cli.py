import argparse

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch.utils.data import DataLoader, Dataset

import mmadv  # noqa: F401  (registers the models)
from mmadv.utils import (InputError, add_runner_args, enable_amp,
                         load_runner_config)
from mmadv.utils.cli import error_line, run_tool


def test_enable_amp_single_wrapper():
    cfg = Config(dict(optim_wrapper=dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_enable_amp_every_wrapper_of_a_multi_optimizer_config():
    cfg = Config(dict(optim_wrapper=dict(
        constructor='MultiOptimWrapperConstructor',
        localizer=dict(type='OptimWrapper', optimizer=dict(type='SGD')),
        adversary=dict(optimizer=dict(type='Adam'), loss_scale=512.0))))
    enable_amp(cfg)
    assert cfg.optim_wrapper.localizer.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.adversary.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.adversary.loss_scale == 512.0
    assert cfg.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'


def test_enable_amp_rejects_other_wrappers_and_empty_configs():
    cfg = Config(dict(optim_wrapper=dict(
        type='MyWrapper', optimizer=dict(type='SGD'))))
    with pytest.raises(ValueError, match='MyWrapper'):
        enable_amp(cfg)
    with pytest.raises(ValueError, match='no optimizer'):
        enable_amp(Config(dict(optim_wrapper=dict(constructor='X'))))


def test_load_runner_config_work_dir_and_options(tmp_path):
    cfg_file = tmp_path / 'my_exp.py'
    cfg_file.write_text('model = dict(depth=50)\n')
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_args(parser)
    args = parser.parse_args(
        [str(cfg_file), '--cfg-options', 'model.depth=18'])
    cfg = load_runner_config(args)
    assert cfg.model.depth == 18
    assert cfg.work_dir.endswith('work_dirs/my_exp')
    assert cfg.launcher == 'none'
    args = parser.parse_args([str(cfg_file), '--work-dir', str(tmp_path)])
    assert load_runner_config(args).work_dir == str(tmp_path)


def test_run_tool_turns_errors_into_a_line_and_an_exit_status():
    assert run_tool(lambda: 3, 'x') == 3

    def bad():
        raise InputError('maps/a.npz is not an attention map file')

    with pytest.raises(SystemExit) as exit_:
        run_tool(bad, 'eval_cam')
    assert exit_.value.code == \
        'eval_cam: error: maps/a.npz is not an attention map file'

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        run_tool(interrupted, 'x')
    assert exit_.value.code == 130

    def bug():
        raise ZeroDivisionError  # not an input error: a traceback

    with pytest.raises(ZeroDivisionError):
        run_tool(bug, 'x')
    with pytest.raises(InputError):  # --debug: the traceback
        run_tool(bad, 'eval_cam', debug=True)


class BadImages(Dataset):

    def __len__(self):
        return 2

    def __getitem__(self, index):
        raise InputError(f'cannot load img_{index}.jpg: empty file')


def test_error_of_a_dataloader_worker_is_its_own_line():
    """torch raises a worker's error again with the worker's traceback as
    its message; the tool prints the original line."""
    with pytest.raises(InputError) as error:
        next(iter(DataLoader(BadImages(), num_workers=1)))
    assert str(error.value).startswith('Caught InputError in DataLoader')
    assert error_line(error.value) == 'cannot load img_0.jpg: empty file'


def test_config_typos_are_one_line():
    init_default_scope('mmseg')
    for cfg, expected in [
        (dict(type='ResNet38e'), 'ResNet38e is not in the mmseg::model '
         'registry'),
        (dict(type='ResNet38d', depthx=3), "ResNet38d.__init__() got an "
         "unexpected keyword argument 'depthx'"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            run_tool(lambda: MODELS.build(cfg), 'train')
        assert exit_.value.code == f'train: error: config: {expected} (check'\
            ' the type names and keys of the config; --debug shows the '\
            'traceback)'
        with pytest.raises((KeyError, TypeError)):
            run_tool(lambda: MODELS.build(cfg), 'train', debug=True)

    def bug():
        return {}['key']  # a KeyError of the code: its traceback

    with pytest.raises(KeyError):
        run_tool(bug, 'train')

    def call_bug():
        def g(a):
            return a

        return g(b=1)  # the shape of a config error, but not the registry

    with pytest.raises(TypeError):
        run_tool(call_bug, 'train')
