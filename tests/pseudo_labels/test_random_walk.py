import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from psa_reference import psa_get_indices_of_pairs

import mmadv  # noqa: F401
from mmadv.models.utils import pair_affinity
from mmadv.pseudo_labels.random_walk import (affinity_refine_maps,
                                             embedding_stride,
                                             stencil_random_walk)

init_default_scope('mmseg')


def brute_force_affinity(embedding, radius, distance):
    """A_ij by a loop over all pixel pairs."""
    dim, height, width = embedding.shape
    flat = embedding.reshape(dim, -1).double()
    reduce = dict(sum=torch.sum, mean=torch.mean)[distance]
    area = height * width
    expected = torch.zeros(area, area, dtype=torch.float64)
    for i in range(area):
        for j in range(area):
            dy, dx = i // width - j // width, i % width - j % width
            if i == j:
                expected[i, j] = 1.
            elif dy * dy + dx * dx < radius * radius:
                expected[i, j] = math.exp(
                    -reduce((flat[:, i] - flat[:, j]).abs()).item())
    return expected


def dense_walk(scores, affinity, beta, logt):
    """vec(s) T^(2^logt) by numpy's matrix power of the column-normalised
    T = A^beta: PSA's trans_mat, squared."""
    trans = affinity.numpy()**beta
    trans = np.linalg.matrix_power(trans / trans.sum(0), 2**logt)
    channels = scores.shape[0]
    return (scores.reshape(channels, -1).numpy() @ trans).reshape(
        scores.shape)


@pytest.mark.parametrize('rule', ['all', 'psa'])
@pytest.mark.parametrize('radius,beta,logt', [(3, 2, 0), (3, 2, 3),
                                              (5, 8, 6), (2, 1, 2)])
def test_stencil_walk_is_the_dense_walk(rule, radius, beta, logt):
    """The stencil against the dense matrix of the same pixels: PSA's own
    (to_dense of its pairs, its transposes and the identity) for its rule,
    a loop over all pixel pairs for 'all'."""
    gen = torch.Generator().manual_seed(radius + logt)
    embedding = torch.rand(3, 9, 11, generator=gen, dtype=torch.float64)
    scores = torch.rand(2, 9, 11, generator=gen, dtype=torch.float64)
    if rule == 'psa':
        affinity = psa_affinity_matrix(embedding, radius)
    else:
        affinity = brute_force_affinity(embedding, radius, 'mean')
    pairs = pair_affinity(embedding[None], radius, 'mean', rule)[0]
    walked = stencil_random_walk(scores, pairs, radius, beta, logt, rule)
    np.testing.assert_allclose(walked.numpy(),
                               dense_walk(scores, affinity, beta, logt),
                               rtol=1e-10, atol=1e-13)


def test_random_walk_on_a_hand_made_chain():
    # a 1x8 chain, regions 0..3 and 4..7: radius 2 pairs each pixel with
    # its right neighbour, affinity 1 but 0.01 across the boundary (0.01^8
    # = 1e-16 after beta)
    affinity = torch.tensor([1., 1., 1., 0.01, 1., 1., 1.])
    scores = torch.zeros(2, 1, 8)
    scores[0, 0, 0] = 1.  # a seed at the left end
    scores[1, 0, 7] = 1.  # and one at the right end
    walked = stencil_random_walk(scores, affinity, 2, beta=8, logt=8)
    # T = A D^-1 converges to the degree distribution: degrees 2, 3, 3, 2
    # in each region, so a seed of 1 at an end spreads to 2 / 10 over its
    # own region and nothing over the other
    expected = torch.tensor([[[.2] * 4 + [0.] * 4], [[0.] * 4 + [.2] * 4]])
    torch.testing.assert_close(walked, expected, atol=1e-5, rtol=0)


def test_random_walk_on_a_6x6_grid_stops_at_a_boundary():
    # D = 1: the left three columns at 0, the right three at 10, so
    # affinities are 1 within a region and exp(-10) across
    embedding = torch.zeros(1, 6, 6)
    embedding[:, :, 3:] = 10.
    affinity = pair_affinity(embedding[None], 3)[0]
    scores = torch.zeros(1, 6, 6)
    scores[0, 0, 0] = 1.
    walked = stencil_random_walk(scores, affinity, 3, 8, 8)[0]  # PSA's
    # the seed's share of the stationary distribution: its degree (itself
    # and its neighbours within the radius, in its region) over the sum
    degree = torch.zeros(6, 6)
    for y in range(6):
        for x in range(3):
            degree[y, x] = sum((y - v)**2 + (x - u)**2 < 9
                               for v in range(6) for u in range(3))
    expected = degree[0, 0] / degree.sum()
    torch.testing.assert_close(
        walked[:, :3], torch.full((6, 3), expected.item()), atol=1e-5,
        rtol=0)
    assert walked[:, 3:].abs().max() < 1e-6


def test_random_walk_checks_its_inputs():
    with pytest.raises(ValueError, match=r"^8 affinities for 20 pairs "
                       r"\('all'\) of a 3 x 3 grid at radius 2$"):
        stencil_random_walk(torch.zeros(2, 3, 3), torch.ones(8), 2, 8, 8)
    with pytest.raises(ValueError, match=r'\(C, h, w\)'):
        stencil_random_walk(torch.zeros(9), torch.ones(20), 2, 8, 8)
    with pytest.raises(ValueError, match='logt'):
        stencil_random_walk(torch.zeros(2, 3, 3), torch.ones(20), 2, beta=8,
                            logt=-1)


def affinity_net(out_indices, pair_rule='psa'):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='AffinityNet',
             backbone=dict(type='TimmFeatureBackbone',
                           model_name='test_resnet', out_indices=out_indices,
                           output_stride=8),
             embed_channels=16,
             distance='mean',
             pair_rule=pair_rule)).eval()


@pytest.fixture(scope='module')
def model():
    return affinity_net((2, 3, 4))  # PSA's stride 8 and pairs


def test_embedding_stride(model):
    assert embedding_stride(model) == 8
    # a model in training mode: probed in eval mode, its mode and its
    # BatchNorm statistics kept
    training = affinity_net((2, 3, 4)).train()
    stats = {k: v.clone() for k, v in training.state_dict().items()}
    assert embedding_stride(training) == 8
    assert training.training
    for key, value in training.state_dict().items():
        assert torch.equal(value, stats[key]), key
    # test_resnet's levels have strides 2, 4, 8, 8, 8 (dilated): the
    # embedding has the first level's
    assert embedding_stride(affinity_net((0, 2, 4))) == 2
    assert embedding_stride(affinity_net((1, 2, 4)), size=64) == 4


def psa_affinity_matrix(embedding, radius=5):
    """PSA's resnet38_aff.py forward(to_dense=True), transcribed in
    float64: its pairs (tool/pyutils.get_indices_of_pairs(radius, ...);
    PSA's: 5), the mean-distance affinities, then a sparse matrix of the
    pairs, the identity and the transposed pairs, made dense."""
    dim, height, width = embedding.shape
    ind_from, ind_to = psa_get_indices_of_pairs(radius, (height, width))
    ind_from, ind_to = torch.from_numpy(ind_from), torch.from_numpy(ind_to)
    x = embedding.double().reshape(1, dim, -1)
    ff = torch.index_select(x, dim=2, index=ind_from)
    ft = torch.index_select(x, dim=2, index=ind_to)
    ff = torch.unsqueeze(ff, dim=2)
    ft = ft.view(ft.size(0), ft.size(1), -1, ff.size(3))
    aff = torch.exp(-torch.mean(torch.abs(ft - ff), dim=1)).view(-1)
    ind_from_exp = torch.unsqueeze(ind_from, dim=0).expand(
        ft.size(2), -1).contiguous().view(-1)
    indices = torch.stack([ind_from_exp, ind_to])
    indices_tp = torch.stack([ind_to, ind_from_exp])
    area = x.size(2)
    indices_id = torch.stack([torch.arange(0, area), torch.arange(0, area)])
    return torch.sparse_coo_tensor(
        torch.cat([indices, indices_id, indices_tp], dim=1),
        torch.cat([aff, torch.ones([area], dtype=torch.float64), aff]),
        (area, area)).to_dense()


def psa_refined_maps(model, image, maps, bg_alpha=16, beta=8, logt=8,
                     stride=8):
    """PSA's infer_aff.py in float64 by another route than
    affinity_refine_maps: the image padded to a multiple of the stride, the
    background ``(1 - max)^alpha``, ``avg_pool2d``, ``trans_mat`` squared
    ``logt`` times, ``cam_vec @ trans_mat``, bilinear upsampling, the crop;
    then ``A'_k = s*_k / (s*_k + s*_bg)``. The affinity matrix is PSA's own
    (``pair_rule='psa'``) or, for every pair, a loop over all pixel
    pairs."""
    height, width = image.shape[-2:]
    pad = (0, -width % stride, 0, -height % stride)
    with torch.no_grad():
        embedding = model(F.pad(image, pad)[None], mode='tensor')[0]
    if model.pair_rule == 'psa':
        aff_mat = psa_affinity_matrix(embedding)
    else:
        aff_mat = brute_force_affinity(embedding, model.radius, 'mean')
    aff_mat = torch.pow(aff_mat, beta)
    trans_mat = aff_mat / torch.sum(aff_mat, dim=0, keepdim=True)
    for _ in range(logt):
        trans_mat = torch.matmul(trans_mat, trans_mat)
    maps = maps.double().numpy()
    cams = np.concatenate([(1 - maps.max(0, keepdims=True))**bg_alpha, maps])
    cams = torch.from_numpy(np.pad(cams,
                                   ((0, 0), (0, pad[3]), (0, pad[1]))))
    cams = F.avg_pool2d(cams, stride, stride)
    num, h, w = cams.shape
    cam_rw = torch.matmul(cams.view(num, -1), trans_mat).view(1, num, h, w)
    cam_rw = F.interpolate(cam_rw, (height + pad[3], width + pad[1]),
                           mode='bilinear',
                           align_corners=False)[0, :, :height, :width]
    return cam_rw[1:] / (cam_rw[1:] + cam_rw[:1])


@pytest.mark.parametrize('pair_rule', ['psa', 'all'])
@pytest.mark.parametrize('bg_alpha,beta,logt', [(16, 8, 8), (2, 8, 1)])
def test_affinity_refine_maps_is_psas_infer_aff(pair_rule, bg_alpha, beta,
                                                logt):
    """Every pixel of the refined maps, against PSA's computation (its
    pair rule, or all pairs), at PSA's and at short-walk settings; the
    0.5 threshold of the refined maps is then PSA's argmax."""
    model = affinity_net((2, 3, 4), pair_rule)
    gen = torch.Generator().manual_seed(0)
    height, width = 94, 101  # padded to 96 x 104: a 12 x 13 embedding
    image = torch.randn(3, height, width, generator=gen)
    maps = 0.5 + 0.5 * torch.rand(2, height, width, generator=gen)
    maps[0, :, :50] *= 0.3
    maps[1, :, 50:] *= 0.3
    maps[:, :30] *= 0.1  # background at the top
    refined = affinity_refine_maps(model, image, torch.tensor([1, 4]), maps,
                                   bg_alpha, beta, logt, stride=8)
    expected = psa_refined_maps(model, image, maps, bg_alpha, beta, logt)
    assert refined.shape == (2, height, width)
    torch.testing.assert_close(refined.double(), expected, rtol=0,
                               atol=1e-5)
    if logt == 1:  # a short walk keeps background and both classes
        score, best = refined.max(dim=0)
        label = torch.where(score > 0.5, best + 1, 0)
        assert label.unique().tolist() == [0, 1, 2]


def test_affinity_refine_maps_at_stride_2():
    model = affinity_net((0, 2, 4), 'all')
    gen = torch.Generator().manual_seed(1)
    height, width = 21, 17  # padded to 22 x 18: an 11x9 embedding
    image = torch.randn(3, height, width, generator=gen)
    maps = 0.5 + 0.5 * torch.rand(1, height, width, generator=gen)
    maps[:, :8] *= 0.1
    refined = affinity_refine_maps(model, image, torch.tensor([3]), maps, 2,
                                   8, 2, stride=2)
    expected = psa_refined_maps(model, image, maps, 2, 8, 2, stride=2)
    torch.testing.assert_close(refined.double(), expected, rtol=0,
                               atol=1e-5)


def test_affinity_refine_maps_edge_cases(model):
    image = torch.randn(3, 16, 16)
    empty = affinity_refine_maps(model, image, torch.zeros(0),
                                 torch.zeros(0, 16, 16), 16, 8, 8, 8)
    assert empty.shape == (0, 16, 16)
    with pytest.raises(ValueError, match='stride'):
        affinity_refine_maps(model, image, torch.tensor([0]),
                             torch.rand(1, 16, 16), 16, 8, 8, stride=16)
