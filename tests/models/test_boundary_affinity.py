"""IRN's boundary affinities: 1 - the largest boundary value on the line
between two pixels, against a brute-force loop over the grid and against
a numpy transcription of IRN's misc/indexing.py (PathIndex,
edge_to_affinity)."""
import numpy as np
import pytest
import torch
from irn_reference import irn_affinity

from mmadv.models.utils import pair_indices
from mmadv.models.utils.boundary_affinity import (boundary_affinity,
                                                  line_offsets)


def test_paths_are_irns():
    assert set(line_offsets(1, 1)) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert set(line_offsets(2, 1)) == {(0, 0), (0, 1), (1, 0), (1, 1),
                                       (2, 0), (2, 1)}
    assert line_offsets(0, 3) == ((0, 0), (0, 1), (0, 2), (0, 3))
    assert line_offsets(1, -2) == ((0, -2), (0, -1), (0, 0), (1, -2),
                                   (1, -1), (1, 0))
    with pytest.raises(ValueError):
        line_offsets(0, 0)


@pytest.mark.parametrize('radius', [2, 4, 5])
def test_equals_irns_indexing(radius):
    rng = np.random.default_rng(radius)
    edge = rng.random((2, 11, 13)).astype(np.float32)
    ours = boundary_affinity(torch.from_numpy(edge), radius, 'psa')
    src, dst = pair_indices(11, 13, radius, rule='psa')
    for n in range(2):
        theirs = irn_affinity(edge[n], radius)
        assert len(theirs) == src.numel() == ours.shape[1]
        got = {(int(s), int(d)): float(a)
               for s, d, a in zip(src, dst, ours[n])}
        assert got == pytest.approx(theirs, abs=0)


def test_equals_a_loop_over_the_grid():
    """Every pair of every source ('all'): the largest B over the grid's
    pixels inside the pair's box and closer than 1 to its line."""
    rng = np.random.default_rng(0)
    h, w, radius = 6, 7, 4
    edge = rng.random((h, w))
    ours = boundary_affinity(torch.from_numpy(edge)[None], radius, 'all')[0]
    src, dst = pair_indices(h, w, radius, rule='all')
    ys, xs = np.mgrid[:h, :w]
    for s, d, a in zip(src.tolist(), dst.tolist(), ours.tolist()):
        (y0, x0), (y1, x1) = divmod(s, w), divmod(d, w)
        inside = ((ys >= min(y0, y1)) & (ys <= max(y0, y1))
                  & (xs >= min(x0, x1)) & (xs <= max(x0, x1)))
        # distance of each pixel centre to the line through both centres
        distance = np.abs((y1 - y0) * (xs - x0) - (x1 - x0) * (ys - y0)) \
            / np.hypot(y1 - y0, x1 - x0)
        assert a == pytest.approx(1 - edge[inside & (distance < 1)].max(),
                                  abs=1e-12)


def test_the_gradient_reaches_the_strongest_boundary_only():
    boundary = torch.zeros(1, 1, 5)
    boundary[0, 0, 2] = 0.9
    boundary[0, 0, 1] = 0.3
    boundary.requires_grad_(True)
    aff = boundary_affinity(boundary, radius=5, rule='all')
    src, dst = pair_indices(1, 5, 5, rule='all')
    pair = [(s, d) for s, d in zip(src.tolist(), dst.tolist())].index((0, 4))
    assert aff[0, pair].item() == pytest.approx(0.1)
    aff[0, pair].backward()
    assert boundary.grad[0, 0].tolist() == [0., 0., -1., 0., 0.]
