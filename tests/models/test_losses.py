import math

import pytest
import torch

import mmadv  # noqa: F401
from mmseg.registry import MODELS


def test_attention_mining_loss_by_hand():
    loss = MODELS.build(dict(type='AttentionMiningLoss'))
    assert loss.loss_name == 'loss_am'
    assert loss.loss_weight == 0.05
    logits = torch.tensor([[0., 2., -1.], [math.log(3.), 0., 7.]])
    pair_classes = torch.tensor([1, 0])
    expected = 0.05 * (1 / (1 + math.exp(-2.)) + 0.75) / 2
    assert loss(logits, pair_classes).item() == pytest.approx(expected)


def test_attention_mining_loss_on_logits_is_their_mean():
    """EADER's --share_weights: compute_am_loss on the localizer's raw
    logits of the erased classes."""
    loss = MODELS.build(
        dict(type='AttentionMiningLoss', loss_weight=0.5, use_sigmoid=False))
    logits = torch.tensor([[0., 2., -1.], [math.log(3.), 0., 7.]],
                          requires_grad=True)
    value = loss(logits, torch.tensor([1, 2]))
    assert value.item() == pytest.approx(0.5 * (2. + 7.) / 2)
    value.backward()
    expected = torch.zeros(2, 3)
    expected[0, 1] = expected[1, 2] = 0.25  # 0.5 / K
    torch.testing.assert_close(logits.grad, expected)


def test_attention_mining_loss_gradient_lowers_the_erased_class():
    logits = torch.zeros(2, 3, requires_grad=True)
    loss = MODELS.build(dict(type='AttentionMiningLoss', loss_weight=1.))
    loss(logits, torch.tensor([2, 0])).backward()
    # d/dx mean(sigmoid(x)) = sigmoid'(0) / K = 0.25 / 2, only at c_k
    expected = torch.zeros(2, 3)
    expected[0, 2] = expected[1, 0] = 0.125
    torch.testing.assert_close(logits.grad, expected)


def test_attention_regularization_loss_by_hand():
    loss = MODELS.build(dict(type='AttentionRegularizationLoss'))
    assert loss.loss_name == 'loss_reg'
    maps = torch.zeros(2, 4, 4)
    maps[0, :2] = 1.  # half of map 0
    maps[1, 0, 0] = 0.5
    expected = 1e-5 * (8 + 0.5) / 32
    assert loss(maps).item() == pytest.approx(expected)
    custom = MODELS.build(
        dict(type='AttentionRegularizationLoss', loss_weight=2.,
             loss_name='loss_area'))
    assert custom.loss_name == 'loss_area'
    assert custom(maps).item() == pytest.approx(2 * 8.5 / 32)
