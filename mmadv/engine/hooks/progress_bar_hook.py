"""A progress bar over a Runner's iterations, for consoles that show no
log lines (the pipeline's quiet steps)."""
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...utils.console import progress_bar


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Draw mmengine's ``ProgressBar`` on the console (rank 0) over the
    training iterations still to run, and over the test batches."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar = None
        self._context = None

    def _start(self, total: int) -> None:
        if is_main_process():
            self._context = progress_bar(total)
            self._bar = self._context.__enter__()

    def _update(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _end(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
        self._bar = self._context = None

    def before_train(self, runner) -> None:
        self._start(runner.max_iters - runner.iter)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        self._update()

    def after_train(self, runner) -> None:
        self._end()

    def before_test(self, runner) -> None:
        self._start(len(runner.test_dataloader))

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[list] = None) -> None:
        self._update()

    def after_test(self, runner) -> None:
        self._end()
