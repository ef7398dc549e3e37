import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmadv  # noqa: F401
from mmadv.compat import load_mmengine_checkpoint
from mmadv.utils.instances import unique_name

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
