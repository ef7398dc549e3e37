"""What every benchmark shares: models with random weights from a config,
random batches, and timing and peak GPU memory of a block."""
import contextlib
from typing import Iterator, Optional

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.structures import SegDataSample

from ..engine.dataset_fit import fit_to_dataset
from ..engine.model_loading import build_model
from ..utils import enable_amp
from ..utils.config_path import resolve_config


def random_batch(batch_size: int, size: int, num_classes: int,
                 seed: int = 0) -> dict:
    """A training batch: ``batch_size`` random uint8 (3, size, size)
    images and 1-2 random classes per image."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=gen,
                                    dtype=torch.uint8))
        labels = torch.zeros(num_classes)
        labels[torch.randperm(num_classes, generator=gen)[:1 + i % 2]] = 1
        sample = SegDataSample(metainfo=dict(img_shape=(size, size)))
        sample.gt_class_labels = labels
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """The config (a path, or one installed with the package) with
    ``cfg_options``, fitted to its data set
    (:func:`~mmadv.engine.fit_to_dataset`)."""
    cfg = Config.fromfile(resolve_config(config, 'config'))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return fit_to_dataset(cfg)


def amp_config(cfg: Config, dtype: str) -> None:
    """Every optimizer wrapper of ``cfg`` an ``AmpOptimWrapper`` computing
    in ``dtype`` (``'float16'`` or ``'bfloat16'``)."""
    enable_amp(cfg)
    wrappers = [cfg.optim_wrapper] if 'optimizer' in cfg.optim_wrapper else [
        w for w in cfg.optim_wrapper.values()
        if isinstance(w, dict) and 'optimizer' in w
    ]
    for wrapper in wrappers:
        wrapper.dtype = dtype


def build_for_training(config: str,
                       size: int,
                       device: torch.device,
                       amp: Optional[str] = None,
                       channels_last: bool = False,
                       cfg_options: Optional[dict] = None):
    """``(cfg, model, optim_wrapper)``: the config's model with random
    weights (:func:`~mmadv.engine.model_loading.build_model`: timing needs
    none) in train mode on ``device``, its input size ``size``, and its
    optimizer wrapper (AMP in ``amp``'s dtype when given)."""
    cfg = load_config(config, cfg_options)
    cfg.model.data_preprocessor.size = (size, size)  # after the fit
    if amp:
        amp_config(cfg, amp)
    model = build_model(cfg).to(device)
    model.init_weights()
    model.train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return cfg, model, build_optim_wrapper(model, cfg.optim_wrapper)


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a GPU's kernels)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def peak_memory(device: torch.device, result: dict,
                key: str = 'peak_mib') -> Iterator[None]:
    """``result[key]``: the peak GPU memory (MiB) of the block; None on the
    CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    yield
    result[key] = (torch.cuda.max_memory_allocated(device) /
                   2**20 if device.type == 'cuda' else None)
