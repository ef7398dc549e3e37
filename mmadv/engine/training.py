"""Training and testing from a config, each with a Runner in this process.

Each Runner gets instance names of its own (experiment, logger, message
hub, visualizer), so that several in one process (the pipeline's steps,
a test suite) do not share a visualizer or a logger.

Example::

    import torch
from mmengine.config import Config
    from mmadv.apis import test, train

    cfg = Config.fromfile('configs/demo/adv_erase_demo.py')
    cfg.work_dir = 'work_dirs/adv_erase_demo'
    train(cfg)
    test(cfg, 'work_dirs/adv_erase_demo/iter_1200.pth')
"""
import copy
import glob
import logging
import os.path as osp
import pickle
import re
import zipfile
from typing import Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dist import is_distributed, is_main_process
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.registry import RUNNERS

from ..utils.atomic import write_json
from ..utils.cli import enable_amp, use_cpu_distributed
from ..utils.errors import ConfigError, InputError, one_line
from ..utils.instances import unique_name
from .dataset_fit import fit_to_dataset
from .model_loading import load_checkpoint_strict
from .preflight import (check_datasets, check_one_size, check_resumable,
                        check_weights)
from .seg_protocols import seg_protocol

# the checkpoints mmengine's CheckpointHook writes
_CHECKPOINT_NAME = re.compile(r'(?:iter|epoch)_(\d+)\.pth')


def build_runner(cfg: Config,
                 progress: bool = False,
                 loaders: Sequence[str] = ()) -> Runner:
    """A Runner of ``cfg`` (``runner_type`` if set, else mmengine's) with a
    new experiment name, which also names its logger, message hub and
    visualizer.

    Before the Runner is built (and logs its environment and config), the
    weights files are checked, and the data sets of ``loaders`` (those
    the run will use) are read and their batches checked
    (:mod:`.preflight`), so that a bad one is refused in one line.

    Args:
        cfg (Config): The config, with ``work_dir``; not changed (the
            Runner's copy is fitted to its data set:
            :func:`~mmadv.engine.dataset_fit.fit_to_dataset`).
        progress (bool): Add a :class:`~mmadv.engine.ProgressBarHook`.
            Defaults to False.
        loaders (Sequence[str]): The dataloaders the run will use, e.g.
            ``('train_dataloader', 'val_dataloader')``. Defaults to none.
    """
    cfg = fit_to_dataset(copy.deepcopy(cfg))
    source = cfg.filename or 'the config'
    if cfg.get('work_dir') is None:
        raise ConfigError(f'{source}: no work_dir')
    check_datasets(cfg, source, loaders)
    check_weights(cfg, source)
    check_one_size(cfg, source, loaders)
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


def _unreadable(checkpoint: str) -> str:
    """Why ``checkpoint`` cannot be resumed from; '' when it can.

    A ``torch.save`` zip is checked without loading it (every member's
    CRC, and its pickle is there), the same on every rank; any other file
    (torch's legacy format, or not a zip: cut short) is loaded.
    """
    if not osp.isfile(checkpoint):
        return 'not found'
    if zipfile.is_zipfile(checkpoint):
        try:
            with zipfile.ZipFile(checkpoint) as archive:
                corrupt = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            return one_line(e)
        if corrupt:
            return f'{corrupt} is corrupt'
        if not any(n.endswith('data.pkl') for n in names):
            return 'not a torch checkpoint'
        return ''
    try:
        _load_checkpoint(checkpoint, map_location='cpu', logger='silent')
    except (pickle.UnpicklingError, EOFError, RuntimeError, OSError,
            ValueError, zipfile.BadZipFile) as e:  # cut short, corrupt
        return one_line(e)
    return ''


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint that mmengine's ``last_checkpoint`` file of
    ``work_dir`` names (None without one), as a file of ``work_dir`` where
    one of its name is there: the file holds an absolute path, which a
    copied or moved work directory no longer has."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        named = f.read().strip()
    here = osp.join(work_dir, osp.basename(named))
    return here if osp.isfile(here) else named


def resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume the training in ``work_dir`` from.

    The one its ``last_checkpoint`` file names; when that one cannot be
    read (a run killed while it saved, a disk error), the newest readable
    ``iter_<n>.pth`` / ``epoch_<n>.pth`` of ``work_dir``, with a warning
    naming both. None when there is no checkpoint (a new training; a
    ``last_checkpoint`` naming a deleted file counts as none).

    Raises:
        InputError: There are checkpoints, and none can be read.
    """
    latest = last_checkpoint(work_dir)
    latest = latest if latest and osp.isfile(latest) else None
    numbered = sorted(
        (p for p in glob.glob(osp.join(work_dir, '*.pth'))
         if _CHECKPOINT_NAME.fullmatch(osp.basename(p))),
        key=lambda p: -int(_CHECKPOINT_NAME.fullmatch(
            osp.basename(p)).group(1)))
    candidates = ([latest] if latest else []) + [
        p for p in numbered
        if not latest or osp.abspath(p) != osp.abspath(latest)
    ]
    if not candidates:
        return None
    reasons = []
    for checkpoint in candidates:
        reason = _unreadable(checkpoint)
        if not reason:
            if reasons:
                print_log(
                    f'cannot resume from {candidates[0]} ({reasons[0]}): '
                    f'resuming from {checkpoint}, the newest readable '
                    'checkpoint', logger='current', level=logging.WARNING)
            return checkpoint
        reasons.append(reason)
    raise InputError(f'cannot resume the training in {work_dir}: none of '
                     f'its {len(candidates)} checkpoints can be read '
                     f'({candidates[0]}: {reasons[0]}); delete '
                     f'{" and ".join(candidates)} to train from the start')


def train(cfg: Config,
          resume: bool = False,
          amp: bool = False,
          progress: bool = False) -> Runner:
    """Train ``cfg`` into ``cfg.work_dir``.

    Args:
        cfg (Config): The config (``work_dir`` set).
        resume (bool): Resume from the latest checkpoint of the work dir
            when there is one, or from the newest readable one when the
            latest cannot be read (:func:`resume_checkpoint`). Defaults to
            False.
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
    if resume and cfg.get('load_from') is None:
        cfg.load_from = resume_checkpoint(cfg.work_dir)
        cfg.resume = cfg.load_from is not None
    if cfg.resume:
        check_resumable(fit_to_dataset(copy.deepcopy(cfg)), cfg.load_from,
                        cfg.filename or 'the config')
    validates = cfg.get('val_cfg') and cfg.get('val_dataloader')
    runner = build_runner(
        cfg, progress,
        ('train_dataloader', ) + (('val_dataloader', ) if validates else ()))
    runner.train()
    return runner


# the transforms that read or check a mask: left out where there is none
_MASK_TRANSFORMS = ('LoadAnnotations', 'CheckSegLabels')


def without_masks(pipeline: list) -> list:
    """``pipeline`` (a test or TTA pipeline) without the transforms that
    read masks, for images that have none; a ``TestTimeAug`` keeps its
    other transform lists."""
    kept = []
    for transform in pipeline:
        if transform.get('type') in _MASK_TRANSFORMS:
            continue
        if transform.get('type') == 'TestTimeAug':
            transform = dict(transform, transforms=[
                stage for stage in (without_masks(s)
                                    for s in transform['transforms'])
                if stage
            ])
        kept.append(transform)
    return kept


def _images_only(dataset: dict) -> None:
    """A test data set config read without masks, in place."""
    dataset.pipeline = without_masks(dataset.pipeline)
    dataset.data_prefix.pop('seg_map_path', None)


def _tester(cfg: Config, checkpoint: str, progress: bool) -> Runner:
    """A Runner of ``cfg``'s test loop with ``checkpoint`` loaded
    strictly into the network inside the model's wrappers (DDP, a TTA
    model, a CRF around it)."""
    cfg.load_from = None
    runner = build_runner(cfg, progress, ('test_dataloader', ))
    model = runner.model
    while hasattr(model, 'module'):
        model = model.module
    load_checkpoint_strict(model, checkpoint, cfg.filename or 'the config')
    return runner


def test(cfg: Config,
         checkpoint: str,
         out: Optional[str] = None,
         progress: bool = False,
         protocol: str = 'single-scale',
         format_only: bool = False) -> dict:
    """Test ``checkpoint`` with ``cfg``'s test loop and evaluator under a
    segmentation ``protocol``; the metrics, also written to
    ``<work_dir>/test_metrics.json``.

    The checkpoint is loaded strictly (it must fit the model key by key
    and shape by shape, see
    :func:`~mmadv.engine.model_loading.load_checkpoint_strict`).

    Args:
        cfg (Config): The config (``work_dir`` set).
        checkpoint (str): The weights to test.
        out (str, optional): Write the predictions to this folder as
            label PNGs (``<name>.png``, label indices, mmseg's
            ``IoUMetric`` format; what the VOC test server takes in
            ``results/VOC2012/Segmentation/comp6_test_cls/``).
        progress (bool): A progress bar over the test batches.
        protocol (str): A segmentation test protocol
            (:data:`~mmadv.engine.seg_protocols.SEG_PROTOCOLS`:
            ``single-scale``, ``ms-flip``, ``crf``, ``ms-flip-crf``).
            Defaults to ``single-scale``.
        format_only (bool): Only write the predictions to ``out``, of
            images without masks (a test split): nothing is scored, the
            transforms that read masks are left out.
    """
    cfg = seg_protocol(protocol).apply(cfg)
    if format_only:
        if out is None:
            raise ConfigError('format_only writes the predictions: give out')
        cfg.test_evaluator['format_only'] = True
        _images_only(cfg.test_dataloader.dataset)
    if out is not None:
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
    metrics = _tester(cfg, checkpoint, progress).test()
    if is_main_process():
        write_json(osp.join(cfg.work_dir, 'test_metrics.json'), metrics)
    return metrics


def predict(cfg: Config,
            checkpoint: str,
            split_file: str,
            out_dir: str,
            protocol: str = 'single-scale',
            progress: bool = False) -> int:
    """Write the predictions of ``checkpoint`` on the images of
    ``split_file`` (relative to the test data set's data root) under a
    segmentation ``protocol`` to ``out_dir``
    (:class:`~mmadv.evaluation.PredictionWriter`); masks are not read.
    Returns how many were written."""
    cfg = seg_protocol(protocol).apply(cfg)
    cfg.test_dataloader.dataset.ann_file = split_file
    _images_only(cfg.test_dataloader.dataset)
    cfg.test_evaluator = dict(type='PredictionWriter', out_dir=out_dir)
    return _tester(cfg, checkpoint, progress).test()['written']


def _config_file(config: str, work_dir: str) -> Config:
    """The config file ``config`` to run into ``work_dir``: distributed
    (``launcher='pytorch'``) in a torchrun process, else in this one."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.launcher = 'pytorch' if is_distributed() else 'none'
    if is_distributed() and not torch.cuda.is_available():
        use_cpu_distributed(cfg)
    return cfg


def train_from_file(config: str,
                    work_dir: str,
                    progress: bool = False) -> str:
    """Train the config file ``config`` into ``work_dir``, resuming it
    (:func:`train`), in this process or in each torchrun process; the
    final checkpoint, ``iter_<max_iters>.pth``."""
    runner = train(_config_file(config, work_dir), resume=True,
                   progress=progress)
    return osp.join(work_dir, f'iter_{runner.max_iters}.pth')


def test_from_file(config: str, checkpoint: str, work_dir: str,
                   progress: bool = False,
                   protocol: str = 'single-scale') -> dict:
    """Test ``checkpoint`` with the config file ``config`` under
    ``protocol`` (:func:`test`), in this process or in each torchrun
    process; the metrics."""
    return test(_config_file(config, work_dir), checkpoint,
                progress=progress, protocol=protocol)


def predict_from_file(config: str, checkpoint: str, split_file: str,
                      out_dir: str, work_dir: str, protocol: str,
                      progress: bool = False) -> int:
    """:func:`predict` with the config file ``config``, in this process or
    in each torchrun process."""
    return predict(_config_file(config, work_dir), checkpoint, split_file,
                   out_dir, protocol, progress)
