import math

import pytest
import torch
from mmseg.registry import MODELS

import mmadv  # noqa: F401
from mmadv.models.losses import affinity_loss_terms

EPS = 1e-5
AFFINITY = [[0.5, 0.25, 0.9, 0.1], [0.8, 0.3, 0.6, 1.0]]
# image 0: one bg pair, one fg pair, two neg pairs; image 1: one bg pair,
# one neg pair, one ignored pair, and no fg pair
BG = [[1, 0, 0, 0], [1, 0, 0, 0]]
FG = [[0, 1, 0, 0], [0, 0, 0, 0]]
NEG = [[0, 0, 1, 1], [0, 1, 0, 0]]
# the terms by hand, summed over the whole batch (PSA)
BG_LOSS = (-math.log(0.5 + EPS) - math.log(0.8 + EPS)) / (2 + EPS)
FG_LOSS = -math.log(0.25 + EPS) / (1 + EPS)
NEG_LOSS = (-math.log(1 + EPS - 0.9) - math.log(1 + EPS - 0.1) -
            math.log(1 + EPS - 0.3)) / (3 + EPS)


def case():
    masks = [torch.tensor(m, dtype=torch.bool) for m in (BG, FG, NEG)]
    return (torch.tensor(AFFINITY, requires_grad=True), *masks)


def test_terms_by_hand():
    bg, fg, neg = affinity_loss_terms(*case())
    assert bg.item() == pytest.approx(BG_LOSS, rel=1e-6)
    assert fg.item() == pytest.approx(FG_LOSS, rel=1e-6)
    assert neg.item() == pytest.approx(NEG_LOSS, rel=1e-6)
    # roughly: (0.223 + 0.693) / 2, 1.386, (2.302 + 0.105 + 0.357) / 3
    assert (bg.item(), fg.item(), neg.item()) == pytest.approx(
        (0.4581, 1.3863, 0.9215), abs=1e-3)


def test_loss_module_total_and_logged_parts():
    loss = MODELS.build(dict(type='AffinityLoss', loss_weight=2.))
    assert loss.loss_name == 'loss_affinity'
    out = loss(*case())
    assert set(out) == {'loss_affinity', 'aff_bg', 'aff_fg', 'aff_neg'}
    expected = 2. * (BG_LOSS / 4 + FG_LOSS / 4 + NEG_LOSS / 2)
    assert out['loss_affinity'].item() == pytest.approx(expected, rel=1e-6)
    assert out['aff_bg'].item() == pytest.approx(BG_LOSS, rel=1e-6)
    assert out['aff_fg'].item() == pytest.approx(FG_LOSS, rel=1e-6)
    assert out['aff_neg'].item() == pytest.approx(NEG_LOSS, rel=1e-6)
    assert out['loss_affinity'].requires_grad
    assert not any(out[k].requires_grad
                   for k in ('aff_bg', 'aff_fg', 'aff_neg'))


def test_gradient_closed_form():
    affinity, bg_pos, fg_pos, neg = case()
    loss = MODELS.build(dict(type='AffinityLoss'))
    loss(affinity, bg_pos, fg_pos, neg)['loss_affinity'].backward()
    # d/da of -log(a + eps) / 4 / count and of -log(1 + eps - a) / 2 / count
    expected = torch.zeros(2, 4)
    for n, p in ((0, 0), (1, 0)):
        expected[n, p] = -1 / (AFFINITY[n][p] + EPS) / 4 / (2 + EPS)
    expected[0, 1] = -1 / (0.25 + EPS) / 4 / (1 + EPS)
    for n, p in ((0, 2), (0, 3), (1, 1)):
        expected[n, p] = 1 / (1 + EPS - AFFINITY[n][p]) / 2 / (3 + EPS)
    torch.testing.assert_close(affinity.grad, expected)


def test_no_pairs_gives_zero():
    affinity = torch.full((1, 3), 0.5)
    none = torch.zeros(1, 3, dtype=torch.bool)
    out = MODELS.build(dict(type='AffinityLoss'))(affinity, none, none, none)
    assert out['loss_affinity'].item() == 0.
