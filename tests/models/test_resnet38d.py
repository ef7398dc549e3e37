import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from mmadv.models.backbones.resnet38d import ResBlock, ResBlockBot, ResNet38d

ALL_INDICES = (0, 1, 2, 3, 4, 5)
TRAINABLE = dict(
    norm_eval=False,
    freeze_stem=False,
    norm_cfg=dict(type='BN', requires_grad=True))


def randomize_bn(module, seed=0):
    """Give every BN layer non-trivial statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def bn_relu(bn, x):
    return F.relu(
        F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                     False, 0., bn.eps))


def test_res_block_matches_pre_activation_formula():
    torch.manual_seed(0)
    block = ResBlock(4, 6, 8, stride=2, first_dilation=1, dilation=2).eval()
    randomize_bn(block)
    x = torch.randn(2, 4, 9, 9)
    out, x_act = block(x)

    act = bn_relu(block.bn_branch2a, x)
    shortcut = F.conv2d(act, block.conv_branch1.weight, stride=2)
    h = F.conv2d(act, block.conv_branch2a.weight, stride=2, padding=1)
    h = bn_relu(block.bn_branch2b1, h)
    h = F.conv2d(h, block.conv_branch2b1.weight, padding=2, dilation=2)
    torch.testing.assert_close(x_act, act)
    torch.testing.assert_close(out, shortcut + h)
    assert out.shape == (2, 8, 5, 5)


def test_res_block_same_shape_has_identity_shortcut():
    torch.manual_seed(0)
    block = ResBlock(8, 4, 8, dilation=2).eval()
    randomize_bn(block)
    assert not hasattr(block, 'conv_branch1')
    assert block.conv_branch2a.dilation == (2, 2)
    x = torch.randn(1, 8, 7, 7)
    out, _ = block(x)
    h = F.conv2d(
        bn_relu(block.bn_branch2a, x),
        block.conv_branch2a.weight,
        padding=2,
        dilation=2)
    h = F.conv2d(
        bn_relu(block.bn_branch2b1, h),
        block.conv_branch2b1.weight,
        padding=2,
        dilation=2)
    torch.testing.assert_close(out, x + h)


def test_res_block_bot_matches_bottleneck_formula():
    torch.manual_seed(0)
    block = ResBlockBot(8, 16, dilation=4, dropout=0.5).eval()
    randomize_bn(block)
    x = torch.randn(2, 8, 6, 6)
    out, x_act = block(x)

    act = bn_relu(block.bn_branch2a, x)
    h = bn_relu(block.bn_branch2b1, F.conv2d(act, block.conv_branch2a.weight))
    assert block.conv_branch2b1.weight.shape == (8, 4, 3, 3)
    h = F.conv2d(h, block.conv_branch2b1.weight, padding=4, dilation=4)
    h = F.conv2d(bn_relu(block.bn_branch2b2, h), block.conv_branch2b2.weight)
    torch.testing.assert_close(x_act, act)
    torch.testing.assert_close(out,
                               F.conv2d(act, block.conv_branch1.weight) + h)


def test_default_output_stride_8_and_4096_channels():
    model = ResNet38d().eval()
    assert model.out_channels == (4096, )
    with torch.no_grad():
        feats = model(torch.randn(1, 3, 32, 32))
    assert isinstance(feats, tuple) and len(feats) == 1
    assert feats[0].shape == (1, 4096, 4, 4)
    assert torch.isfinite(feats[0]).all()
    assert (feats[0] >= 0).all()  # relu(bn7(x))


def test_all_out_indices_shapes_and_values():
    torch.manual_seed(0)
    model = ResNet38d(out_indices=ALL_INDICES).eval()
    randomize_bn(model)
    assert model.out_channels == (128, 256, 512, 1024, 2048, 4096)
    x = torch.randn(2, 3, 40, 40)
    with torch.no_grad():
        feats = model(x)
    sizes = [(40 + s - 1) // s for s in (2, 4, 8, 8, 8, 8)]
    shapes = [(2, c, s, s) for c, s in zip(model.out_channels, sizes)]
    assert [f.shape for f in feats] == shapes
    assert all(torch.isfinite(f).all() for f in feats)

    # feature 2 is PSA's conv4: the activated input of b5, by hand
    with torch.no_grad():
        h = model.conv1a(x)
        for name in ('b2', 'b2_1', 'b2_2', 'b3', 'b3_1', 'b3_2', 'b4', 'b4_1',
                     'b4_2', 'b4_3', 'b4_4', 'b4_5'):
            h = getattr(model, name)(h)[0]
        conv4 = bn_relu(model.b5.bn_branch2a, h)
    torch.testing.assert_close(feats[2], conv4)

    # any order and subset, same weights, same features
    subset = ResNet38d(out_indices=(5, 0, 3)).eval()
    subset.load_state_dict(model.state_dict())
    assert subset.out_channels == (4096, 128, 1024)
    with torch.no_grad():
        picked = subset(x)
    for got, i in zip(picked, (5, 0, 3)):
        torch.testing.assert_close(got, feats[i])


@pytest.mark.parametrize('out_indices', [(), (6, ), (-1, ), (0, 7)])
def test_invalid_out_indices(out_indices):
    with pytest.raises(ValueError, match='out_indices'):
        ResNet38d(out_indices=out_indices)


def test_psa_defaults_freeze_bn_and_stem_in_training():
    torch.manual_seed(0)
    model = ResNet38d()
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert len(bns) == 2 * 15 + 3 * 2 + 1
    assert not any(m.training for m in bns)
    assert model.b7.dropout_2b2.training and model.b6.dropout_2b1.p == 0.3
    mean_before = model.b4.bn_branch2a.running_mean.clone()

    model(torch.randn(1, 3, 16, 16))[0].sum().backward()

    torch.testing.assert_close(model.b4.bn_branch2a.running_mean, mean_before)
    frozen = {
        name
        for name, p in model.named_parameters() if not p.requires_grad
    }
    bn_params = {
        f'{name}.{p}'
        for name, m in model.named_modules() if isinstance(m, _BatchNorm)
        for p in ('weight', 'bias')
    }
    # PSA's not_training: conv1a, b2, b2_1, b2_2 (resnet38_cls.py)
    stem = {
        name
        for name, _ in model.named_parameters()
        if name.split('.')[0] in ('conv1a', 'b2', 'b2_1', 'b2_2')
    }
    assert 'b2.conv_branch2a.weight' in stem and 'b3.conv_branch2a.weight' \
        not in stem
    assert frozen == bn_params | stem
    for name, p in model.named_parameters():
        if name in frozen:
            assert p.grad is None, name
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_from_scratch_settings_train_everything():
    torch.manual_seed(0)
    model = ResNet38d(out_indices=ALL_INDICES, **TRAINABLE)
    model.train()
    assert all(m.training for m in model.modules())
    mean_before = model.bn7.running_mean.clone()
    feats = model(torch.randn(2, 3, 16, 16))
    sum(f.mean() for f in feats).backward()
    assert not torch.equal(model.bn7.running_mean, mean_before)
    for name, p in model.named_parameters():
        assert p.requires_grad, name
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_registry_and_sync_bn_keep_psa_parameter_names():
    model = MODELS.build(
        dict(
            type='ResNet38d',
            out_indices=(2, 3, 5),
            norm_cfg=dict(type='SyncBN', requires_grad=False)))
    assert isinstance(model, ResNet38d)
    assert isinstance(model.b5_2.bn_branch2b1, torch.nn.SyncBatchNorm)
    assert model.state_dict().keys() == ResNet38d().state_dict().keys()
    keys = model.state_dict().keys()
    assert {
        'conv1a.weight', 'b2.conv_branch1.weight',
        'b4_5.conv_branch2b1.weight', 'b5_2.bn_branch2a.running_var',
        'b7.bn_branch2b2.weight', 'b7.conv_branch2b2.weight', 'bn7.bias'
    } <= keys
    assert not any(k.startswith('b2_1.conv_branch1') for k in keys)
    # on CPU, SyncBN only runs in eval mode, which norm_eval keeps it in
    model.train()
    with torch.no_grad():
        feats = model(torch.randn(2, 3, 16, 16))
    assert [f.shape[1] for f in feats] == [512, 1024, 4096]


def test_pretrained_init_loads_local_checkpoint(tmp_path):
    source = ResNet38d()
    randomize_bn(source, seed=1)
    ckpt = tmp_path / 'r38.pth'
    torch.save(dict(state_dict=source.state_dict()), ckpt)
    model = ResNet38d(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    model.init_weights()
    loaded = model.state_dict()
    for key, value in source.state_dict().items():
        assert torch.equal(loaded[key], value), key


def test_missing_pretrained_checkpoint_is_not_downloaded(tmp_path):
    missing = str(tmp_path / 'resnet38d_imagenet.pth')
    model = ResNet38d(init_cfg=[
        dict(type='Constant', val=0, layer='Conv2d'),
        dict(type='Pretrained', checkpoint=missing)
    ])
    with pytest.raises(FileNotFoundError) as err:
        model.init_weights()
    assert missing in str(err.value)
    assert 'tools/model_converters/convert_r38_weights.py' in str(err.value)
    url = 'https://example.com/resnet38d.pth'
    with pytest.raises(FileNotFoundError, match='example.com'):
        ResNet38d(
            init_cfg=dict(type='Pretrained', checkpoint=url)).init_weights()
