"""The MXNet ImageNet weights of ResNet-38 as a :class:`ResNet38d` state
dict.

The source is the ``.params`` file PSA and SEAM start from
(``ilsvrc-cls_rna-a1_cls1000_ep-0001.params``). It is parsed with numpy (no
mxnet needed; the NDArray-list format, legacy, v1 and v2 arrays), renamed
as PSA's ``convert_mxnet_to_torch`` does, checked against a freshly built
:class:`ResNet38d` (every key, every shape) and written as a plain state
dict, ready for ``init_cfg=dict(type='Pretrained',
checkpoint='resnet38d_imagenet.pth')``
(``tools/model_converters/convert_r38_weights.py`` is the command).
"""
import os.path as osp
import re
import struct
from typing import BinaryIO, Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log

from ...utils.atomic import atomic_path
from .resnet38d import ResNet38d

LIST_MAGIC = 0x112
NDARRAY_V1_MAGIC = 0xF993FAC8
NDARRAY_V2_MAGIC = 0xF993FAC9
MAX_NDIM = 32  # more dims than any MXNet array has: a corrupt file
# MXNet's type flags (mshadow), stored little-endian
MXNET_DTYPES = {
    0: '<f4',
    1: '<f8',
    2: '<f2',
    3: 'u1',
    4: '<i4',
    5: 'i1',
    6: '<i8',
}
BN_PARAM_MX_PT = {
    'beta': 'bias',
    'gamma': 'weight',
    'mean': 'running_mean',
    'var': 'running_var'
}


def _unpack(f: BinaryIO, fmt: str) -> Tuple:
    """Read ``struct`` format ``fmt`` (little-endian) from ``f``."""
    fmt = '<' + fmt
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError('file ends early (truncated?)')
    return struct.unpack(fmt, data)


def _read_ndarray(f: BinaryIO) -> np.ndarray:
    """Read one NDArray as ``NDArray::Save`` of MXNet writes it."""
    magic, = _unpack(f, 'I')
    if magic == NDARRAY_V2_MAGIC:
        stype, = _unpack(f, 'i')
        if stype != 0:
            raise ValueError(f'NDArray with storage type {stype} found; only '
                             f'dense arrays (storage type 0) are supported')
    if magic in (NDARRAY_V1_MAGIC, NDARRAY_V2_MAGIC):
        ndim, = _unpack(f, 'I')
        if ndim > MAX_NDIM:
            raise ValueError(f'not an NDArray ({ndim} dims)')
        shape = _unpack(f, f'{ndim}q')
    elif magic <= MAX_NDIM:  # legacy format: the magic is the ndim
        ndim = magic
        shape = _unpack(f, f'{ndim}I')
    else:
        raise ValueError(f'not an NDArray (magic {magic:#x})')
    if ndim == 0:
        return np.zeros((0, ), np.float32)
    _dev_type, _dev_id, type_flag = _unpack(f, 'iii')
    if type_flag not in MXNET_DTYPES:
        raise ValueError(f'NDArray with unsupported type flag {type_flag}')
    dtype = np.dtype(MXNET_DTYPES[type_flag])
    data = np.empty(int(np.prod(shape)) * dtype.itemsize, np.uint8)
    if f.readinto(data) != data.size:
        raise ValueError('file ends early (truncated?)')
    return data.view(dtype).astype(
        dtype.newbyteorder('='), copy=False).reshape(shape)


def read_mxnet_params(path: str) -> Dict[str, np.ndarray]:
    """Read an MXNet NDArray-list file (``mx.nd.save``) without mxnet.

    Layout: uint64 magic ``0x112``, uint64 reserved, uint64 count, ``count``
    NDArrays, uint64 name count, then each name as uint64 length and bytes.
    NDArrays in the legacy, V1 (``0xF993FAC8``) and V2 (``0xF993FAC9``,
    dense storage only) formats are read.

    Args:
        path (str): The ``.params`` file.

    Returns:
        dict[str, np.ndarray]: The arrays by their stored names (for
        example ``'arg:res2a_branch1_weight'``), in file order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a valid NDArray list, is truncated,
            or holds sparse or unsupported arrays.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'MXNet params file {path} not found')
    with open(path, 'rb') as f:
        try:
            return _read_ndarray_list(f)
        except ValueError as e:
            raise ValueError(f'{path}: {e}') from None


def _read_ndarray_list(f: BinaryIO) -> Dict[str, np.ndarray]:
    magic, _reserved, count = _unpack(f, 'QQQ')
    if magic != LIST_MAGIC:
        raise ValueError(f'not an MXNet NDArray list file (magic '
                         f'{magic:#x}, expected {LIST_MAGIC:#x})')
    arrays = []
    for i in range(count):
        try:
            arrays.append(_read_ndarray(f))
        except ValueError as e:
            raise ValueError(f'array {i}: {e}') from None
    num_names, = _unpack(f, 'Q')
    if num_names != count:
        raise ValueError(f'{count} arrays but {num_names} names')
    names = []
    for _ in range(num_names):
        length, = _unpack(f, 'Q')
        names.append(_unpack(f, f'{length}s')[0].decode('utf-8'))
    return dict(zip(names, arrays))


def mxnet_to_resnet38d_name(name: str) -> Optional[str]:
    """The ResNet38d key of an MXNet parameter name, as PSA maps it.

    ``arg:``/``aux:`` prefixes are dropped, then for example
    ``res4b5_branch2b1_weight`` -> ``b4_5.conv_branch2b1.weight``,
    ``bn5b2_branch2a_moving_var`` -> ``b5_2.bn_branch2a.running_var``,
    ``bn7_gamma`` -> ``bn7.weight``.

    Args:
        name (str): The MXNet name.

    Returns:
        str or None: The key, or None for the ImageNet classifier
        (``linear1000``), which ResNet38d has no use for.

    Raises:
        ValueError: If the name does not follow ResNet-38's naming (PSA
            would map some such names, a conv bias for example, onto
            another parameter).
    """
    if name.startswith(('arg:', 'aux:')):
        name = name[4:]
    toks = name.split('_')
    if toks == ['conv1a', 'weight']:
        return 'conv1a.weight'
    if toks[0] == 'linear1000':
        return None
    unit = re.fullmatch(r'(res|bn)(\d)(a|b(\d))', toks[0])
    if unit and len(toks) > 1 and 'branch' in toks[1]:
        # res4b5 -> b4_5, res4a -> b4
        block = f'b{unit[2]}' + (f'_{unit[4]}' if unit[4] else '')
        if unit[1] == 'res' and toks[-1] == 'weight':
            return f'{block}.conv_{toks[1]}.weight'
        if unit[1] == 'bn' and toks[-1] in BN_PARAM_MX_PT:
            return f'{block}.bn_{toks[1]}.{BN_PARAM_MX_PT[toks[-1]]}'
    elif toks[0] == 'bn7' and toks[-1] in BN_PARAM_MX_PT:
        return 'bn7.' + BN_PARAM_MX_PT[toks[-1]]
    raise ValueError(f'unexpected MXNet parameter name {name!r}')


def rename_mxnet_to_resnet38d(
        params: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Rename MXNet ResNet-38 parameters to ResNet38d keys.

    Args:
        params (dict[str, np.ndarray]): As :func:`read_mxnet_params`
            returns them.

    Returns:
        dict[str, np.ndarray]: The same arrays by ResNet38d key, without
        the ``linear1000`` classifier.

    Raises:
        ValueError: If a name is not ResNet-38's or two names map to the
            same key.
    """
    renamed: Dict[str, np.ndarray] = {}
    sources: Dict[str, str] = {}
    for name, array in params.items():
        key = mxnet_to_resnet38d_name(name)
        if key is None:
            continue
        if key in renamed:
            raise ValueError(f'{sources[key]} and {name} both map to {key}')
        renamed[key] = array
        sources[key] = name
    return renamed


def match_resnet38d_state_dict(
        renamed: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
    """Check renamed arrays against ``ResNet38d().state_dict()``.

    Every key must be present with the model's shape; the arrays are cast
    to the model's dtypes and put in its key order. ``num_batches_tracked``
    (which MXNet has no counterpart for) is filled with zeros, so that the
    result loads with ``strict=True``.

    Args:
        renamed (dict[str, np.ndarray]): As
            :func:`rename_mxnet_to_resnet38d` returns them.

    Returns:
        dict[str, Tensor]: A state dict for ResNet38d.

    Raises:
        ValueError: Naming the missing keys, unexpected keys and shape
            mismatches.
    """
    reference = ResNet38d().state_dict()
    expected = {k for k in reference if not k.endswith('num_batches_tracked')}
    missing = sorted(expected - renamed.keys())
    unexpected = sorted(renamed.keys() - expected)
    mismatched = [
        f'{k} {tuple(renamed[k].shape)} vs {tuple(reference[k].shape)}'
        for k in sorted(expected & renamed.keys())
        if tuple(renamed[k].shape) != tuple(reference[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f'missing keys: {", ".join(missing)}')
    if unexpected:
        problems.append(f'unexpected keys: {", ".join(unexpected)}')
    if mismatched:
        problems.append(f'shape mismatches (source vs ResNet38d): '
                        f'{", ".join(mismatched)}')
    if problems:
        raise ValueError('weights do not match ResNet38d; ' +
                         '; '.join(problems))
    state_dict = {}
    for key, ref in reference.items():
        if key in expected:
            array = np.ascontiguousarray(renamed[key])
            state_dict[key] = torch.from_numpy(array).to(ref.dtype)
        else:  # num_batches_tracked
            state_dict[key] = torch.zeros_like(ref)
    return state_dict


def convert_mxnet_resnet38d(src: str, dst: str) -> Dict[str, torch.Tensor]:
    """Convert ``src`` (MXNet ``.params``) to ``dst`` (ResNet38d ``.pth``).

    ``dst`` is written atomically: to a temporary file in its folder, then
    renamed.

    Args:
        src (str): The MXNet ``.params`` file.
        dst (str): The state dict file to write.

    Returns:
        dict[str, Tensor]: The state dict written.
    """
    params = read_mxnet_params(src)
    state_dict = match_resnet38d_state_dict(rename_mxnet_to_resnet38d(params))
    with atomic_path(dst) as tmp:
        torch.save(state_dict, tmp)
    print_log(
        f'converted {len(params)} MXNet arrays of {src} to {len(state_dict)} '
        f'ResNet38d tensors in {dst}',
        logger='current')
    return state_dict
