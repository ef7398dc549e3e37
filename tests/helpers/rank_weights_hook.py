"""A test-only hook: each rank saves its model weights after training, so
a test can check that DDP kept the ranks in sync."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RankWeightsHook(Hook):

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = {
            name: (p.module if is_model_wrapper(p) else p).state_dict()
            for name, p in model.named_children()
            if name in ('localizer', 'adversary')
        }
        wrappers = {
            name: type(child).__name__
            for name, child in model.named_children()
        }
        torch.save(dict(state=state, wrappers=wrappers,
                        outer=type(runner.model).__name__),
                   osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
