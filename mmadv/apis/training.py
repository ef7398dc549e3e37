"""Training and testing from a config, each with a Runner in this process.

Each Runner gets instance names of its own (experiment, logger, message
hub, visualizer), so that several in one process (the pipeline's steps,
a test suite) do not share a visualizer or a logger.

Example::

    from mmengine.config import Config
    from mmadv.apis import test, train

    cfg = Config.fromfile('configs/demo/adv_erase_demo.py')
    cfg.work_dir = 'work_dirs/adv_erase_demo'
    train(cfg)
    test(cfg, 'work_dirs/adv_erase_demo/iter_1200.pth')
"""
import copy
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ..utils.atomic import write_json
from ..utils.cli import enable_amp
from ..utils.errors import ConfigError
from ..utils.instances import unique_name
from .inference import load_checkpoint_strict


def build_runner(cfg: Config, progress: bool = False) -> Runner:
    """A Runner of ``cfg`` (``runner_type`` if set, else mmengine's) with a
    new experiment name, which also names its logger, message hub and
    visualizer.

    Args:
        cfg (Config): The config, with ``work_dir``; not changed.
        progress (bool): Add a :class:`~mmadv.engine.ProgressBarHook`.
            Defaults to False.
    """
    cfg = copy.deepcopy(cfg)
    if cfg.get('work_dir') is None:
        raise ConfigError(f'{cfg.filename or "the config"}: no work_dir')
    name = cfg.get('experiment_name') or osp.splitext(
        osp.basename(cfg.filename or 'run'))[0]
    cfg.experiment_name = unique_name(name)
    if cfg.get('visualizer'):
        cfg.visualizer.pop('name', None)  # the Runner names it after itself
    if progress:
        cfg.custom_hooks = [
            *(cfg.get('custom_hooks') or []),
            dict(type='ProgressBarHook')
        ]
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(cfg: Config,
          resume: bool = False,
          amp: bool = False,
          progress: bool = False) -> Runner:
    """Train ``cfg`` into ``cfg.work_dir``.

    Args:
        cfg (Config): The config (``work_dir`` set).
        resume (bool): Resume from the latest checkpoint of the work dir
            when there is one. Defaults to False.
        amp (bool): Every optimizer wrapper an ``AmpOptimWrapper``
            (:func:`~mmadv.utils.cli.enable_amp`). Defaults to False.
        progress (bool): A progress bar over the iterations.

    Returns:
        Runner: The runner, trained.
    """
    cfg = copy.deepcopy(cfg)
    if amp:
        enable_amp(cfg)
    cfg.resume = resume
    runner = build_runner(cfg, progress)
    runner.train()
    return runner


def test(cfg: Config,
         checkpoint: str,
         out: Optional[str] = None,
         progress: bool = False) -> dict:
    """Test ``checkpoint`` with ``cfg``'s test loop and evaluator; the
    metrics, also written to ``<work_dir>/test_metrics.json``.

    The checkpoint is loaded strictly (it must fit the model key by key
    and shape by shape, see
    :func:`~mmadv.apis.inference.load_checkpoint_strict`).

    Args:
        cfg (Config): The config (``work_dir`` set).
        checkpoint (str): The weights to test.
        out (str, optional): Keep the predictions in this folder (mmseg's
            ``IoUMetric`` format).
        progress (bool): A progress bar over the test batches.
    """
    cfg = copy.deepcopy(cfg)
    cfg.load_from = None
    if out is not None:
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
    runner = build_runner(cfg, progress)
    model = runner.model.module if is_model_wrapper(runner.model) else \
        runner.model
    load_checkpoint_strict(model, checkpoint, cfg.filename or 'the config')
    metrics = runner.test()
    if is_main_process():
        write_json(osp.join(cfg.work_dir, 'test_metrics.json'), metrics)
    return metrics
