import builtins
import contextlib
import io
import pickle
import zipfile

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MMLogger
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmadv  # noqa: F401
from mmadv.apis import InputError, resume_checkpoint, train
from mmadv.compat import load_mmengine_checkpoint
from mmadv.utils.instances import forget_new_instances, unique_name

TORCH_LOADS_WEIGHTS_ONLY = tuple(
    int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6)


class TinyRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, inputs, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


class RandomVectors(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.randn(3, generator=torch.Generator()
                                       .manual_seed(index)))


def make_runner(work_dir, max_iters, resume=False):
    return Runner(
        model=TinyRegressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=RandomVectors(),
            batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(
            type='MultiStepLR', milestones=[3], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        experiment_name=unique_name('resume'))


def test_resume_restores_iteration_optimizer_and_logs(tmp_path):
    runner = make_runner(tmp_path, max_iters=4)
    runner.train()
    saved_state = runner.optim_wrapper.optimizer.state_dict()
    saved_weight = runner.model.linear.weight.detach().clone()
    ckpt = tmp_path / 'iter_4.pth'
    assert ckpt.is_file()

    resumed = make_runner(tmp_path, max_iters=6, resume=True)
    resumed.load_or_resume()
    assert resumed.iter == 4
    torch.testing.assert_close(resumed.model.linear.weight, saved_weight)
    state = resumed.optim_wrapper.optimizer.state_dict()
    for key, buf in saved_state['state'].items():
        torch.testing.assert_close(state['state'][key]['momentum_buffer'],
                                   buf['momentum_buffer'])
    # the scheduler stepped past its milestone at iteration 3
    assert state['param_groups'][0]['lr'] == pytest.approx(0.01)
    logged = resumed.message_hub.get_scalar('train/loss')
    assert len(logged.data[0]) == 4  # HistoryBuffer came back with 4 losses
    resumed.train()
    assert resumed.iter == 6


@pytest.mark.skipif(not TORCH_LOADS_WEIGHTS_ONLY,
                    reason='torch<2.6 does not default to weights_only')
def test_weights_only_stays_on_outside_mmengine_loading(tmp_path):
    make_runner(tmp_path, max_iters=2).train()
    ckpt = str(tmp_path / 'iter_2.pth')
    allow_list_before = set(map(str, torch.serialization.get_safe_globals()))
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(ckpt)
    checkpoint = load_mmengine_checkpoint(ckpt, map_location='cpu')
    assert checkpoint['meta']['iter'] == 2
    assert set(map(str, torch.serialization.get_safe_globals())) == \
        allow_list_before
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt)


class Reach:
    """Pickles as ``getattr(HistoryBuffer, '__subclasses__')``."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__subclasses__')


def crafted_checkpoint(path, payload: bytes) -> None:
    """A torch.save zip whose pickle is ``payload``."""
    torch.save({'meta': {}}, str(path))
    with zipfile.ZipFile(str(path)) as z:
        entries = {info.filename: z.read(info) for info in z.infolist()}
    name = next(n for n in entries if n.endswith('/data.pkl'))
    entries[name] = payload
    with zipfile.ZipFile(str(path), 'w') as z:
        for key, data in entries.items():
            z.writestr(key, data)


@pytest.mark.skipif(not TORCH_LOADS_WEIGHTS_ONLY,
                    reason='torch<2.6 does not default to weights_only')
def test_a_checkpoint_cannot_reach_the_builtins(tmp_path):
    """getattr(getattr(HistoryBuffer, '__init__'), '__builtins__') and a
    SETITEMS into it: refused, the builtins untouched; the statistic
    methods a real checkpoint asks for still load."""
    history = (b'cmmengine.logging.history_buffer\nHistoryBuffer\n')
    evil = (b'\x80\x02c__builtin__\ngetattr\nq\x00h\x00' + history +
            b'X\x08\x00\x00\x00__init__\x86R'
            b'X\x0c\x00\x00\x00__builtins__\x86R'
            b'(X\x05\x00\x00\x00pwnedK\x01u.')
    ckpt = tmp_path / 'evil.pth'
    crafted_checkpoint(ckpt, evil)
    with pytest.raises(pickle.UnpicklingError, match="'__init__'"):
        load_mmengine_checkpoint(str(ckpt), map_location='cpu')
    assert not hasattr(builtins, 'pwned')
    # a HistoryBuffer state that names another 'statistic method' first
    # (its __setstate__ adds it to the class's dict) must not widen it
    buffer = HistoryBuffer()
    buffer.update(1.0)
    HistoryBuffer._statistics_methods['__subclasses__'] = HistoryBuffer.min
    try:
        payload = pickle.dumps([buffer, Reach()], protocol=2)
    finally:
        HistoryBuffer._statistics_methods.pop('__subclasses__')
    crafted_checkpoint(ckpt, payload)
    try:
        with pytest.raises(pickle.UnpicklingError,
                           match="'__subclasses__'"):
            load_mmengine_checkpoint(str(ckpt))
    finally:
        HistoryBuffer._statistics_methods.pop('__subclasses__', None)
    good = (b'\x80\x02c__builtin__\ngetattr\n' + history +
            b'X\x04\x00\x00\x00mean\x86R.')
    crafted_checkpoint(ckpt, good)
    assert load_mmengine_checkpoint(str(ckpt)) is HistoryBuffer.mean


def test_resume_runs_no_code_from_the_checkpoint(tmp_path):
    """mmengine's resume parses ``meta['config']`` as Python: a crafted
    one must not run, and the resume still works."""
    make_runner(tmp_path, max_iters=2).train()
    ckpt = tmp_path / 'iter_2.pth'
    checkpoint = torch.load(str(ckpt), weights_only=False)
    marker = tmp_path / 'ran'
    checkpoint['meta']['config'] = \
        f"x = __import__('pathlib').Path({str(marker)!r}).touch()"
    torch.save(checkpoint, str(ckpt))
    resumed = make_runner(tmp_path, max_iters=4, resume=True)
    resumed.train()
    assert resumed.iter == 4
    assert not marker.exists()


@MODELS.register_module(name='TinyRegressorOfTests', force=True)
class RegisteredTinyRegressor(TinyRegressor):
    pass


@DATASETS.register_module(name='RandomVectorsOfTests', force=True)
class RegisteredRandomVectors(RandomVectors):
    pass


def tiny_config(work_dir, max_iters):
    return Config(
        dict(
            model=dict(type='TinyRegressorOfTests'),
            work_dir=str(work_dir),
            train_dataloader=dict(
                dataset=dict(type='RandomVectorsOfTests'),
                batch_size=2,
                sampler=dict(type='DefaultSampler', shuffle=True)),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=False, max_iters=max_iters),
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=2, by_epoch=False)),
            randomness=dict(seed=0)))


def test_unreadable_latest_checkpoint_falls_back(tmp_path, monkeypatch):
    train(tiny_config(tmp_path, 4))
    latest = tmp_path / 'iter_4.pth'
    assert (tmp_path / 'last_checkpoint').read_text().strip() == str(latest)
    latest.write_bytes(latest.read_bytes()[:100])  # killed while saving
    screen = io.StringIO()
    with contextlib.redirect_stdout(screen), forget_new_instances():
        MMLogger.get_instance(unique_name('t'), logger_name='mmadv')
        assert resume_checkpoint(str(tmp_path)) == str(tmp_path /
                                                       'iter_2.pth')
    assert f'cannot resume from {latest} (' in screen.getvalue()
    assert f'resuming from {tmp_path / "iter_2.pth"}' in screen.getvalue()
    resumed_from = []
    resume = Runner.resume
    monkeypatch.setattr(
        Runner, 'resume',
        lambda self, filename, **kw: resumed_from.append(filename) or
        resume(self, filename, **kw))
    runner = train(tiny_config(tmp_path, 6), resume=True)
    assert resumed_from == [str(tmp_path / 'iter_2.pth')]
    assert runner.iter == 6
    # nothing readable: one line, no training from scratch
    for name in ('iter_2.pth', 'iter_4.pth', 'iter_6.pth'):
        (tmp_path / name).write_bytes(b'x')
    with pytest.raises(InputError, match=r'none of its 3 checkpoints can '
                       r'be read \(.*iter_6\.pth: '):
        train(tiny_config(tmp_path, 8), resume=True)
    assert resume_checkpoint(str(tmp_path / 'new')) is None
