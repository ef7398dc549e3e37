import struct

import numpy as np
import pytest
import torch
from conftest import load_tool, tool_error

from mmadv.models.backbones.resnet38d import ResNet38d
from mmadv.models.backbones.resnet38d_mxnet import (
    convert_mxnet_resnet38d, match_resnet38d_state_dict,
    mxnet_to_resnet38d_name, read_mxnet_params, rename_mxnet_to_resnet38d)


def convert_tool():
    return load_tool('model_converters/convert_r38_weights.py')


# MXNet's NDArray-list format, written independently of the tool
TYPE_FLAGS = {
    np.dtype(np.float32): 0,
    np.dtype(np.float64): 1,
    np.dtype(np.float16): 2,
    np.dtype(np.uint8): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int8): 5,
    np.dtype(np.int64): 6,
}
FORMATS = ('legacy', 'v1', 'v2')
BN_MX = dict(
    weight='gamma',
    bias='beta',
    running_mean='moving_mean',
    running_var='moving_var')


def ndarray_bytes(array, fmt, storage_type=0):
    shape = array.shape
    if fmt == 'legacy':
        head = struct.pack(f'<I{len(shape)}I', len(shape), *shape)
    elif fmt == 'v1':
        head = struct.pack(f'<II{len(shape)}q', 0xF993FAC8, len(shape), *shape)
    else:
        head = struct.pack(f'<IiI{len(shape)}q', 0xF993FAC9, storage_type,
                           len(shape), *shape)
    if not shape:
        return head
    context_and_type = struct.pack('<iii', 1, 0, TYPE_FLAGS[array.dtype])
    data = array.astype(array.dtype.newbyteorder('<')).tobytes()
    return head + context_and_type + data


def write_params(path, entries):
    """Write ``[(name, array, fmt), ...]`` as ``mx.nd.save`` does."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<QQQ', 0x112, 0, len(entries)))
        for _, array, fmt in entries:
            f.write(ndarray_bytes(array, fmt))
        f.write(struct.pack('<Q', len(entries)))
        for name, _, _ in entries:
            encoded = name.encode()
            f.write(struct.pack('<Q', len(encoded)) + encoded)


def mxnet_name(key):
    """Invert PSA's naming: ``b4_5.conv_branch2b1.weight`` ->
    ``arg:res4b5_branch2b1_weight``."""
    if key == 'conv1a.weight':
        return 'arg:conv1a_weight'
    *module, param = key.split('.')
    kind = 'aux' if param.startswith('running') else 'arg'
    if module == ['bn7']:
        return f'{kind}:bn7_{BN_MX[param]}'
    block, layer = module
    stage, _, index = block[1:].partition('_')
    unit = stage + (f'b{index}' if index else 'a')
    layer_type, branch = layer.split('_')
    if layer_type == 'conv':
        return f'arg:res{unit}_{branch}_weight'
    return f'{kind}:bn{unit}_{branch}_{BN_MX[param]}'


@pytest.fixture(scope='module')
def resnet38d_keys():
    state_dict = ResNet38d().state_dict()
    return {
        k: tuple(v.shape)
        for k, v in state_dict.items() if not k.endswith('num_batches_tracked')
    }


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory, resnet38d_keys):
    """A full synthetic ImageNet file, its expected tensors and the .pth
    the command line tool made of it."""
    rng = np.random.default_rng(0)
    entries, expected = [], {}
    for i, (key, shape) in enumerate(resnet38d_keys.items()):
        array = rng.standard_normal(shape, dtype=np.float32)
        if key == 'bn7.running_var':
            array = (np.abs(array) + 0.5).astype(np.float16)
        elif key == 'b3.bn_branch2a.bias':
            array = array.astype(np.float64) / 3
        expected[key] = torch.from_numpy(array.astype(np.float32))
        entries.append((mxnet_name(key), array, FORMATS[i % 3]))
    entries.append(('arg:linear1000_weight', rng.standard_normal(
        (1000, 4096)).astype(np.float16), 'legacy'))
    entries.append(('arg:linear1000_bias', np.zeros(1000, np.float32), 'v2'))
    folder = tmp_path_factory.mktemp('r38')
    src, dst = folder / 'ilsvrc.params', folder / 'out' / 'r38.pth'
    write_params(src, entries)
    convert_tool().main([str(src), str(dst)])
    return dict(src=src, dst=dst, entries=entries, expected=expected)


@pytest.mark.parametrize('name, key', [
    ('arg:conv1a_weight', 'conv1a.weight'),
    ('arg:res2a_branch1_weight', 'b2.conv_branch1.weight'),
    ('arg:res4b5_branch2b1_weight', 'b4_5.conv_branch2b1.weight'),
    ('aux:bn5b2_branch2a_moving_var', 'b5_2.bn_branch2a.running_var'),
    ('aux:bn6a_branch2b2_moving_mean', 'b6.bn_branch2b2.running_mean'),
    ('arg:bn3b1_branch2b1_beta', 'b3_1.bn_branch2b1.bias'),
    ('arg:bn7_gamma', 'bn7.weight'),
    ('bn7_beta', 'bn7.bias'),
    ('arg:linear1000_weight', None),
])
def test_psa_names(name, key):
    assert mxnet_to_resnet38d_name(name) == key


@pytest.mark.parametrize('name', [
    'arg:res2a_branch1_bias', 'arg:fc8_weight', 'aux:bn4b1_branch2a_foo',
    'arg:conv1a_bias', 'res_branch1_weight', 'bn8_gamma'
])
def test_unexpected_names(name):
    with pytest.raises(ValueError, match='unexpected MXNet parameter name'):
        mxnet_to_resnet38d_name(name)


def test_reader_formats_and_dtypes(tmp_path):
    arrays = [
        ('a', np.arange(6, dtype=np.float32).reshape(2, 3), 'legacy'),
        ('b', np.array([1.5, -2.25], np.float16), 'v2'),
        ('c', np.array([[1e300]], np.float64), 'v1'),
        ('d', np.array([-3, 2**40], np.int64), 'v2'),
        ('e', np.array([255, 0], np.uint8), 'legacy'),
        ('f', np.array([-128, 7], np.int8), 'v1'),
        ('g', np.array([-2**31], np.int32), 'v2'),
        ('empty', np.zeros(()), 'legacy'),
    ]
    path = tmp_path / 'x.params'
    write_params(path, arrays)
    read = read_mxnet_params(str(path))
    assert list(read) == [name for name, _, _ in arrays]
    for name, array, _ in arrays[:-1]:
        assert read[name].dtype == array.dtype
        np.testing.assert_array_equal(read[name], array)
    assert read['empty'].size == 0


def test_reader_errors(tmp_path):
    sparse = tmp_path / 'sparse.params'
    with open(sparse, 'wb') as f:
        f.write(struct.pack('<QQQ', 0x112, 0, 1))
        f.write(ndarray_bytes(np.ones(2, np.float32), 'v2', storage_type=1))
    with pytest.raises(ValueError, match='storage type 1'):
        read_mxnet_params(str(sparse))

    corrupt = tmp_path / 'corrupt.params'
    corrupt.write_bytes(
        struct.pack('<QQQI', 0x112, 0, 1, 0xDEADBEEF) + bytes(64))
    with pytest.raises(ValueError, match='array 0: not an NDArray'):
        read_mxnet_params(str(corrupt))

    truncated = tmp_path / 'truncated.params'
    write_params(truncated, [('a', np.ones(8, np.float32), 'v1')])
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(ValueError, match='ends early'):
        read_mxnet_params(str(truncated))

    not_mxnet = tmp_path / 'model.pth'
    torch.save({'a': torch.ones(1)}, not_mxnet)
    with pytest.raises(ValueError, match='not an MXNet NDArray list'):
        read_mxnet_params(str(not_mxnet))

    missing = str(tmp_path / 'nope.params')
    with pytest.raises(FileNotFoundError, match='nope.params'):
        read_mxnet_params(missing)


def test_converted_names_are_resnet38d_names(synthetic, resnet38d_keys):
    read = read_mxnet_params(str(synthetic['src']))
    assert list(read) == [name for name, _, _ in synthetic['entries']]
    assert read['aux:bn7_moving_var'].dtype == np.float16
    renamed = rename_mxnet_to_resnet38d(read)
    assert set(renamed) == set(resnet38d_keys)
    model = ResNet38d()
    assert {n for n, _ in model.named_parameters()} < set(renamed)
    assert len(renamed) == len(read) - 2  # linear1000 weight and bias


def test_round_trip_loads_every_tensor(synthetic):
    dst = synthetic['dst']
    assert sorted(p.name for p in dst.parent.iterdir()) == ['r38.pth']
    saved = torch.load(dst)
    assert saved.keys() == ResNet38d().state_dict().keys()

    model = ResNet38d(init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    loaded = model.state_dict()
    model.load_state_dict(saved, strict=True)
    for key, value in synthetic['expected'].items():
        assert loaded[key].dtype == torch.float32
        assert torch.equal(loaded[key], value), key
    for key in loaded:
        if key.endswith('num_batches_tracked'):
            assert loaded[key].item() == 0


def test_missing_unexpected_and_misshapen_keys_are_named(synthetic):
    arrays = {k: v.numpy() for k, v in synthetic['expected'].items()}
    del arrays['b4_3.bn_branch2b1.running_mean']
    arrays['b8.conv_branch2a.weight'] = np.zeros(1, np.float32)
    arrays['b2.conv_branch1.weight'] = np.zeros((128, 64, 3, 3), np.float32)
    with pytest.raises(ValueError) as err:
        match_resnet38d_state_dict(arrays)
    message = str(err.value)
    assert '\n' not in message
    assert 'missing keys: b4_3.bn_branch2b1.running_mean;' in message
    assert 'unexpected keys: b8.conv_branch2a.weight;' in message
    assert 'b2.conv_branch1.weight (128, 64, 3, 3) vs (128, 64, 1, 1)' in \
        message


def test_duplicate_targets_are_refused():
    arrays = {
        'arg:res2a_branch1_weight': np.ones(1),
        'res2a_branch1_weight': np.zeros(1)
    }
    with pytest.raises(ValueError, match='both map to b2.conv_branch1'):
        rename_mxnet_to_resnet38d(arrays)


def test_failed_conversion_leaves_no_output(tmp_path):
    src = tmp_path / 'partial.params'
    write_params(src, [('arg:conv1a_weight', np.zeros(
        (64, 3, 3, 3), np.float32), 'v2')])
    dst = tmp_path / 'r38.pth'
    with pytest.raises(ValueError, match='missing keys: b2.'):
        convert_mxnet_resnet38d(str(src), str(dst))
    assert list(tmp_path.iterdir()) == [src]


def test_cli_errors_are_one_line(tmp_path):
    missing = str(tmp_path / 'ilsvrc-cls_rna-a1_cls1000_ep-0001.params')
    assert tool_error('model_converters/convert_r38_weights.py',
                      [missing, tmp_path / 'r38.pth']) == (
        f'error: MXNet params file {missing} not found')
    assert not (tmp_path / 'r38.pth').exists()
