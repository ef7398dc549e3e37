import math

import numpy as np
import pytest
import torch
from psa_reference import psa_extract_affinity_labels, psa_get_indices_of_pairs

import mmadv  # noqa: F401
from mmadv.models.utils import (check_distance, pair_affinity, pair_indices,
                                pair_labels, pair_offsets)


def test_pair_offsets_radius_5_is_psa_search_dist():
    offsets = pair_offsets(5)
    assert len(offsets) == 34  # PSA's count for radius 5
    assert offsets[:6] == [(0, 1), (0, 2), (0, 3), (0, 4), (1, -4), (1, -3)]
    assert offsets[-1] == (4, 2)
    # with their negatives: the disc 0 < r^2 < 25, each pair once
    both = offsets + [(-dy, -dx) for dy, dx in offsets]
    disc = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
            if 0 < dy * dy + dx * dx < 25]
    assert sorted(both) == sorted(disc)


def test_pair_offsets_small_radii():
    assert pair_offsets(1) == []
    assert pair_offsets(2) == [(0, 1), (1, -1), (1, 0), (1, 1)]
    with pytest.raises(ValueError):
        pair_offsets(0)


def test_pair_indices_3x3_by_hand():
    src, dst = pair_indices(3, 3, 2)
    # 0 1 2 / 3 4 5 / 6 7 8; offsets (0,1), (1,-1), (1,0), (1,1)
    expected = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8),
                (1, 3), (2, 4), (4, 6), (5, 7),
                (0, 3), (1, 4), (2, 5), (3, 6), (4, 7), (5, 8),
                (0, 4), (1, 5), (3, 7), (4, 8)]
    assert list(zip(src.tolist(), dst.tolist())) == expected


def test_pair_indices_match_brute_force():
    height, width, radius = 5, 7, 3
    src, dst = pair_indices(height, width, radius)
    pairs = {(min(i, j), max(i, j)) for i, j in zip(src.tolist(),
                                                    dst.tolist())}
    assert len(pairs) == src.numel()  # no pair twice
    expected = set()
    for i in range(height * width):
        for j in range(i + 1, height * width):
            dy, dx = j // width - i // width, j % width - i % width
            if dy * dy + dx * dx < radius * radius:
                expected.add((i, j))
    assert pairs == expected


def test_pair_labels_3x3_by_hand():
    label = torch.tensor([[[0, 0, 1],
                           [0, 255, 1],
                           [2, 2, 1]],
                          [[255] * 3] * 3])
    bg_pos, fg_pos, neg = pair_labels(label, 2)
    # the 20 pairs of test_pair_indices_3x3_by_hand: b = bg_pos,
    # f = fg_pos, n = neg, x = touches the ignored centre
    kinds = 'bnxxfn' 'bxxn' 'bxfnxf' 'xnnx'
    for mask, kind in ((bg_pos, 'b'), (fg_pos, 'f'), (neg, 'n')):
        assert mask.dtype == torch.bool and mask.shape == (2, 20)
        assert mask[0].tolist() == [k == kind for k in kinds]
        assert not mask[1].any()


def test_pair_affinity_by_hand():
    # a 1x3 grid, D = 2: pairs (0,1), (1,2) then (0,2)
    embedding = torch.tensor([[[[0., 1., 3.]], [[0., 0., 1.]]]])
    distances = torch.tensor([[1., 3., 4.]])  # L1 distances
    torch.testing.assert_close(
        pair_affinity(embedding, 3, 'sum'), torch.exp(-distances))
    torch.testing.assert_close(
        pair_affinity(embedding, 3, 'mean'), torch.exp(-distances / 2))
    assert pair_affinity(embedding, 3)[0, 0].item() == pytest.approx(
        math.exp(-1.))


def test_unknown_distance():
    with pytest.raises(ValueError, match='distance'):
        check_distance('l2')


@pytest.mark.parametrize('shape', [(2, 5, 3, 7), (1, 4, 6, 4), (1, 3, 1, 1),
                                   (2, 6, 9, 8)])
def test_pair_affinity_matches_pair_indices(shape):
    # one affinity per pair of pair_indices, in its order, and the same
    # gradient as gathering the pair ends by their flat indices
    torch.manual_seed(0)
    embedding = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    src, dst = pair_indices(shape[2], shape[3], 5)
    flat = embedding.flatten(2)
    gathered = torch.exp(-(flat[:, :, src] - flat[:, :, dst]).abs().sum(1))
    affinity = pair_affinity(embedding, 5, 'sum')
    torch.testing.assert_close(affinity, gathered)
    weights = torch.rand_like(gathered)
    grad, = torch.autograd.grad((affinity * weights).sum(), embedding)
    grad_gathered, = torch.autograd.grad((gathered * weights).sum(),
                                         embedding)
    torch.testing.assert_close(grad, grad_gathered)


@pytest.mark.parametrize('height,width,radius', [(12, 13, 5), (9, 10, 3),
                                                 (7, 8, 5)])
def test_psa_rule_is_psas_pairs(height, width, radius):
    """PSA's indices, pair for pair and in order: the sources a crop, each
    repeated for every offset (``ind_from`` is tiled by resnet38_aff.py's
    ``expand``)."""
    src, dst = pair_indices(height, width, radius, rule='psa')
    ind_from, ind_to = psa_get_indices_of_pairs(radius, (height, width))
    num_offsets = len(pair_offsets(radius))
    assert src.tolist() == np.tile(ind_from, num_offsets).tolist()
    assert dst.tolist() == ind_to.tolist()
    # every pixel pair of PSA's is one of all pairs: a subset
    pairs = set(zip(*pair_indices(height, width, radius)))
    assert {(int(i), int(j)) for i, j in zip(src, dst)} <= {
        (int(i), int(j)) for i, j in pairs}


def test_psa_rule_on_a_grid_too_small_has_no_pairs():
    src, _ = pair_indices(4, 8, 5, rule='psa')  # 8 - 2 * 4 = 0 columns
    assert src.numel() == 0
    affinity = pair_affinity(torch.rand(1, 2, 4, 8), 5, rule='psa')
    assert affinity.shape == (1, 0)
    with pytest.raises(ValueError, match='pair rule'):
        pair_indices(9, 9, 5, rule='PSA')


def test_psa_rule_labels_are_psas():
    gen = np.random.default_rng(0)
    label = gen.choice([0, 1, 3, 255], size=(11, 12), p=[.4, .25, .25, .1])
    expected = psa_extract_affinity_labels(label, 5)
    got = pair_labels(torch.from_numpy(label)[None].long(), 5, rule='psa')
    for mine, theirs in zip(got, expected):
        assert mine[0].tolist() == theirs.reshape(-1).tolist()


def test_psa_rule_affinity_matches_its_indices():
    embedding = torch.rand(2, 3, 10, 11,
                           generator=torch.Generator().manual_seed(0))
    affinity = pair_affinity(embedding, 4, 'mean', rule='psa')
    src, dst = pair_indices(10, 11, 4, rule='psa')
    flat = embedding.flatten(2)
    expected = torch.exp(-(flat[:, :, src] - flat[:, :, dst]).abs().mean(1))
    torch.testing.assert_close(affinity, expected)
