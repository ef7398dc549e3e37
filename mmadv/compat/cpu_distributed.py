"""Distributed training on CPU (gloo) with mmengine 0.10.7.

mmengine's ``_init_dist_pytorch`` always calls ``torch.cuda.set_device``,
which raises on a machine without CUDA, so ``--launcher pytorch`` cannot
start a gloo run on CPU (CI, laptops, CPU clusters). With CUDA present, or
any backend but gloo, mmengine's own function runs unchanged.
"""
import os

import mmengine.dist.utils as dist_utils
import torch
import torch.distributed as torch_dist

_mmengine_init_dist_pytorch = dist_utils._init_dist_pytorch


def init_dist_pytorch(backend: str = 'nccl',
                      init_backend: str = 'torch',
                      **kwargs) -> None:
    """mmengine's ``_init_dist_pytorch``, without ``set_device`` for gloo on
    a machine without CUDA."""
    if torch.cuda.is_available() or backend != 'gloo':
        _mmengine_init_dist_pytorch(backend, init_backend, **kwargs)
        return
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def allow_cpu_distributed() -> None:
    """Route mmengine's PyTorch launcher through :func:`init_dist_pytorch`.
    """
    dist_utils._init_dist_pytorch = init_dist_pytorch
