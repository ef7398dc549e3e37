import importlib.machinery
import sys
import types

import pytest
import torch

import mmadv  # noqa: F401
from mmadv.compat import mmcv_ops


@pytest.fixture
def fresh_mmcv_ops(monkeypatch):
    """Forget whatever ``mmcv.ops`` is loaded; monkeypatch restores it."""
    import mmcv
    for name in [n for n in sys.modules if n.startswith('mmcv.ops')]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(mmcv, 'ops', raising=False)
    return mmcv


def test_compiled_ops_present_leaves_mmcv_alone(fresh_mmcv_ops, monkeypatch):
    fake_ext = types.ModuleType('mmcv._ext')
    fake_ext.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    monkeypatch.setitem(sys.modules, 'mmcv._ext', fake_ext)
    sentinel = types.ModuleType('mmcv.ops')
    monkeypatch.setitem(sys.modules, 'mmcv.ops', sentinel)

    assert mmcv_ops.has_compiled_mmcv_ops()
    assert mmcv_ops.install_mmcv_ops_fallback() is False
    assert sys.modules['mmcv.ops'] is sentinel
    assert not hasattr(fresh_mmcv_ops, 'ops')


def test_compiled_ops_absent_installs_fallback(fresh_mmcv_ops, monkeypatch):
    monkeypatch.setattr(mmcv_ops, 'has_compiled_mmcv_ops', lambda: False)
    assert mmcv_ops.install_mmcv_ops_fallback() is True
    ops = sys.modules['mmcv.ops']
    assert fresh_mmcv_ops.ops is ops
    assert ops.__file__ == mmcv_ops.__file__
    # idempotent: a second call keeps the same module
    assert mmcv_ops.install_mmcv_ops_fallback() is True
    assert sys.modules['mmcv.ops'] is ops

    from mmcv.ops import point_sample, sigmoid_focal_loss
    assert sigmoid_focal_loss is mmcv_ops.sigmoid_focal_loss
    # the pure-Python submodule is mmcv's own source file
    assert point_sample is sys.modules['mmcv.ops.point_sample'].point_sample
    assert sys.modules['mmcv.ops.point_sample'].__file__.startswith(
        fresh_mmcv_ops.ops.__path__[0])


def test_guarded_imports_of_compiled_ops_keep_working():
    if mmcv_ops.has_compiled_mmcv_ops():
        pytest.skip('full mmcv installed')
    with pytest.raises(ModuleNotFoundError, match='CrissCrossAttention.*'
                       'full mmcv'):
        from mmcv.ops import CrissCrossAttention  # noqa: F401
    # mmseg's own guarded imports took the fallback path
    from mmseg.models.decode_heads import cc_head, psa_head
    assert cc_head.CrissCrossAttention is None
    assert psa_head.PSAMask is None
    import mmcv.ops
    assert not hasattr(mmcv.ops, 'no_such_op')


def test_mmcv_ops_names_read_from_source():
    import mmcv
    import os.path as osp
    names = mmcv_ops.mmcv_ops_names(osp.join(osp.dirname(mmcv.__file__),
                                             'ops'))
    assert {'point_sample', 'sigmoid_focal_loss', 'CrissCrossAttention',
            'PSAMask', 'DeformConv2d'} <= set(names)


def test_point_sample_matches_explicit_bilinear_interpolation():
    from mmcv.ops import point_sample
    reference = sys.modules['mmcv.ops.point_sample']
    torch.manual_seed(0)
    feats = torch.randn(2, 3, 5, 7)
    points = torch.rand(2, 11, 2)
    out = point_sample(feats, points, align_corners=False)
    assert out.shape == (2, 3, 11)
    # mmcv's gather-based bilinear_grid_sample, an independent route
    expected = reference.bilinear_grid_sample(
        feats, (points * 2 - 1).unsqueeze(2), align_corners=False)
    torch.testing.assert_close(out, expected.squeeze(3))
    # a point at the centre of pixel (row 2, col 3) reads that pixel
    centre = torch.tensor([[[(3 + 0.5) / 7, (2 + 0.5) / 5]]]).repeat(2, 1, 1)
    torch.testing.assert_close(
        point_sample(feats, centre)[..., 0], feats[:, :, 2, 3])


def test_sigmoid_focal_loss_hand_computed():
    x = torch.tensor([[0.0, 2.0]])
    t = torch.tensor([1])
    p0, p1 = 0.5, torch.sigmoid(torch.tensor(2.0)).item()
    gamma, alpha = 2.0, 0.25
    import math
    neg = -(1 - alpha) * p0**gamma * math.log(1 - p0)
    pos = -alpha * (1 - p1)**gamma * math.log(p1)
    out = mmcv_ops.sigmoid_focal_loss(x, t, gamma, alpha, None, 'none')
    torch.testing.assert_close(out, torch.tensor([[neg, pos]]))
    # target == num_classes: every class is a negative
    out_bg = mmcv_ops.sigmoid_focal_loss(x, torch.tensor([2]), reduction='sum')
    neg1 = -(1 - alpha) * p1**gamma * math.log(1 - p1)
    torch.testing.assert_close(out_bg, torch.tensor(neg + neg1))


def test_sigmoid_focal_loss_matches_mmseg_python_version():
    from mmseg.models.losses.focal_loss import py_sigmoid_focal_loss
    torch.manual_seed(0)
    x = torch.randn(6, 4, requires_grad=True)
    t = torch.tensor([0, 3, 1, 4, 2, 3])  # 4 == all negative
    weight = torch.tensor([1.0, 2.0, 0.5, 3.0])
    one_hot = torch.nn.functional.one_hot(t, 5)[:, :4].float()
    expected = py_sigmoid_focal_loss(
        x, one_hot, alpha=0.25, reduction='none')
    expected = expected * torch.cat([weight, weight.new_ones(1)])[t][:, None]
    ours = mmcv_ops.sigmoid_focal_loss(x, t, weight=weight, reduction='none')
    torch.testing.assert_close(ours, expected)
    g_ours, = torch.autograd.grad(
        mmcv_ops.sigmoid_focal_loss(x, t, reduction='mean'), x)
    g_ref, = torch.autograd.grad(
        py_sigmoid_focal_loss(x, one_hot, alpha=0.25, reduction='sum') / 6,
        x)
    torch.testing.assert_close(g_ours, g_ref)
    with pytest.raises(ValueError, match='reduction'):
        mmcv_ops.sigmoid_focal_loss(x, t, reduction='avg')
