"""IRN's random walk on boundary affinities: the stencil walk against a
dense transcription of IRN's propagate_to_edge (padded boundary map,
PathIndex pairs, dense symmetric matrix with a unit diagonal, column
normalisation, repeated squaring), and the map refinement around it."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from irn_reference import irn_propagate_to_edge

from mmadv.models.utils import boundary_affinity
from mmadv.pseudo_labels.boundary_walk import boundary_refine_maps
from mmadv.pseudo_labels.random_walk import stencil_random_walk


@pytest.mark.parametrize('radius,beta,logt', [(3, 10, 3), (5, 10, 4),
                                              (2, 1, 0)])
def test_stencil_walk_equals_irns_dense_walk(radius, beta, logt):
    rng = np.random.default_rng(radius)
    h, w = 7, 9
    edge = rng.random((h, w)) * 0.6
    scores = rng.random((2, h, w))
    expected = irn_propagate_to_edge(scores, edge, radius, beta, logt)
    boundary = torch.from_numpy(edge)
    affinity = boundary_affinity(boundary[None], radius, 'all')[0]
    walked = stencil_random_walk(
        torch.from_numpy(scores) * (1 - boundary), affinity, radius, beta,
        logt)
    np.testing.assert_allclose(walked.numpy(), expected, rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize('height,width', [(24, 32), (26, 35), (21, 30)])
def test_refined_maps_are_irns_walk_upsampled_cropped_and_scaled(height,
                                                                 width):
    """IRN's make_sem_seg_labels.py after the walk: ``F.interpolate(rw,
    scale_factor=4)[..., :H, :W]`` and its maximum; at sizes that are not
    multiples of 4 too (a resize to (H, W) shifts the maps by up to 3
    px there)."""
    rng = np.random.default_rng(height)
    grid = (-(-height // 4), -(-width // 4))
    boundary = torch.from_numpy(rng.random(grid) * 0.5)
    maps = torch.from_numpy(rng.random((2, height, width)))
    refined = boundary_refine_maps(maps, boundary, 4, radius=3, beta=10.,
                                   logt=3)
    small = F.interpolate(maps[None], size=grid, mode='bilinear',
                          align_corners=False)[0].numpy()
    rw = torch.from_numpy(irn_propagate_to_edge(
        small, boundary.numpy(), 3, 10, 3))[None]
    rw_up = F.interpolate(rw, scale_factor=4, mode='bilinear',
                          align_corners=False)[0, :, :height, :width]
    rw_up = rw_up / torch.max(rw_up)
    np.testing.assert_allclose(refined.numpy(), rw_up.numpy(), rtol=1e-9,
                               atol=1e-12)
    assert boundary_refine_maps(maps[:0], boundary, 4).shape == (
        0, height, width)
    with pytest.raises(ValueError, match='not at stride 2'):
        boundary_refine_maps(maps, boundary, 2)
    with pytest.raises(ValueError, match='affinities for'):
        stencil_random_walk(maps[:, :6, :8], torch.ones(3), 3, 10., 1)
