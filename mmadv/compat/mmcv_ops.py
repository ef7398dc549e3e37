"""``mmcv.ops`` for mmcv-lite: the two ops mmseg imports, in pure PyTorch.

mmseg 1.2 imports ``mmcv.ops`` at module level (``point_sample`` in
``mmseg.models.utils``, ``sigmoid_focal_loss`` in its focal loss), but
mmcv-lite ships the Python sources of ``mmcv.ops`` without the compiled
``mmcv._ext`` they load, so ``import mmseg.models`` fails. When, and only
when, the compiled ops are absent, :func:`install_mmcv_ops_fallback` puts a
small module in ``sys.modules['mmcv.ops']`` that provides

* ``point_sample``: mmcv's own pure-PyTorch implementation (``grid_sample``
  on ``[0, 1]`` coordinates), loaded from mmcv's source file;
* ``sigmoid_focal_loss``: the formula of mmcv's CUDA kernel in PyTorch;
* for every other op mmcv exports, a ``ModuleNotFoundError`` that names the
  op and says how to get full mmcv. ``ModuleNotFoundError`` is what mmseg's
  guarded imports (``try: from mmcv.ops import X except
  ModuleNotFoundError``) expect, so they keep working.

Pure-Python submodules (``mmcv.ops.point_sample``) stay importable because
the fallback keeps mmcv's ``ops`` folder as its package path.
"""
import ast
import importlib.util
import os.path as osp
import sys
import types
import warnings
from typing import List, Optional

import torch
import torch.nn.functional as F

FULL_MMCV_HINT = ('it needs the compiled ops of full mmcv: install `mmcv` '
                  '(not `mmcv-lite`) built for your torch, see '
                  'https://mmcv.readthedocs.io/en/latest/get_started/'
                  'installation.html')


def has_compiled_mmcv_ops() -> bool:
    """Whether the installed mmcv has its compiled extension ``mmcv._ext``."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except ModuleNotFoundError:  # mmcv itself is not installed
        return False


def sigmoid_focal_loss(input: torch.Tensor,
                       target: torch.Tensor,
                       gamma: float = 2.0,
                       alpha: float = 0.25,
                       weight: Optional[torch.Tensor] = None,
                       reduction: str = 'mean') -> torch.Tensor:
    """Sigmoid focal loss with mmcv's ``sigmoid_focal_loss`` signature.

    For logits ``x`` of shape (N, C) and class indices ``t`` of shape (N,)
    (``t == C`` marks an all-negative row), with ``p = sigmoid(x)``::

        loss[n, c] = -alpha * (1 - p)^gamma * log(p)          if c == t[n]
                     -(1 - alpha) * p^gamma * log(1 - p)      otherwise

    computed stably from ``logsigmoid``; ``weight`` (C,) scales row ``n`` by
    ``weight[t[n]]`` (rows with ``t[n] == C`` are left unscaled, where
    mmcv's kernel would read past the end of ``weight``). ``reduction``:
    ``'none'`` gives (N, C), ``'sum'`` the sum, ``'mean'`` the sum over N as
    mmcv does.
    """
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f'reduction must be none, mean or sum, '
                         f'got {reduction!r}')
    if input.dim() != 2 or target.shape != input.shape[:1]:
        raise ValueError(f'expected input (N, C) and target (N,), got '
                         f'{tuple(input.shape)} and {tuple(target.shape)}')
    num_classes = input.size(1)
    is_target = F.one_hot(target, num_classes + 1)[:, :num_classes].bool()
    p = input.sigmoid()
    pos = -alpha * (1 - p).pow(gamma) * F.logsigmoid(input)
    neg = -(1 - alpha) * p.pow(gamma) * F.logsigmoid(-input)
    loss = torch.where(is_target, pos, neg)
    if weight is not None:
        padded = torch.cat([weight, weight.new_ones(1)])
        loss = loss * padded[target].unsqueeze(1)
    if reduction == 'mean':
        return loss.sum() / input.size(0)
    if reduction == 'sum':
        return loss.sum()
    return loss


def mmcv_ops_names(ops_dir: str) -> List[str]:
    """The names listed in ``__all__`` of mmcv's ``ops/__init__.py``, read
    without importing it (importing it is what fails)."""
    with open(osp.join(ops_dir, '__init__.py')) as f:
        tree = ast.parse(f.read())
    names: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '__all__' for t in node.targets):
            names += ast.literal_eval(node.value)
    return names


def _load_source_module(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build_mmcv_ops_fallback(ops_dir: str) -> types.ModuleType:
    """A module standing in for ``mmcv.ops`` (see the module docstring)."""
    module = types.ModuleType('mmcv.ops', __doc__)
    module.__path__ = [ops_dir]
    module.__file__ = __file__
    module.__package__ = 'mmcv.ops'
    sys.modules['mmcv.ops'] = module
    point_sample_module = _load_source_module(
        'mmcv.ops.point_sample', osp.join(ops_dir, 'point_sample.py'))
    module.point_sample = point_sample_module.point_sample
    module.sigmoid_focal_loss = sigmoid_focal_loss
    compiled_ops = frozenset(mmcv_ops_names(ops_dir))

    def __getattr__(name: str):
        if name in compiled_ops:
            raise ModuleNotFoundError(
                f'mmcv.ops.{name} is not available with mmcv-lite: '
                f'{FULL_MMCV_HINT}',
                name='mmcv._ext')
        raise AttributeError(f"module 'mmcv.ops' has no attribute {name!r}")

    module.__getattr__ = __getattr__
    return module


def install_mmcv_ops_fallback() -> bool:
    """Install the fallback ``mmcv.ops`` if compiled ops are absent.

    Returns:
        bool: True if the fallback was installed (or already was), False if
        full mmcv is present and nothing was changed.
    """
    if has_compiled_mmcv_ops():
        return False
    existing = sys.modules.get('mmcv.ops')
    if existing is not None and getattr(existing, '__file__',
                                        None) == __file__:
        return True
    import mmcv
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    mmcv.ops = build_mmcv_ops_fallback(ops_dir)
    # mmcv's transformer bricks warn that MultiScaleDeformableAttention is
    # missing with mmcv-lite; the fallback's errors say so where it is used.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore', message='Fail to import ``MultiScaleDeformableAttention')
        import mmcv.cnn.bricks.transformer  # noqa: F401
    return True
