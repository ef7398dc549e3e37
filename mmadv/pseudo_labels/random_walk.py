"""Random-walk propagation of attention maps with AffinityNet's affinities
(Ahn and Kwak, CVPR 2018, https://arxiv.org/abs/1803.10464, Sec. 3.4),
after PSA's ``infer_aff.py`` and ``network/resnet38_aff.py``
(``to_dense=True``) of https://github.com/jiwoon-ahn/psa, and the walk
itself, which IRN's boundary walk (:mod:`.boundary_walk`) shares.

PSA builds the dense (hw, hw) transition matrix; here the scores take the
``2^logt`` steps as a stencil over the pairs' offsets
(:func:`stencil_random_walk`): the same ``vec(s) T^t`` in memory linear
in the image's size.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.utils.affinity_pairs import (pair_affinity, pair_offsets,
                                           source_window)
from ..utils.domain import Domain

# log2 of the walk's steps (PSA and IRN: 8); 2^12 steps bound its cost
LOGT = Domain(0, 12, integer=True)
# the affinity exponent: a negative one turns the missing pairs' zero
# affinities into infinities
BETA = Domain(0)
# the background score's exponent: (1 - max)^bg_alpha stays in [0, 1]
BG_ALPHA = Domain(0)


def stencil_random_walk(scores: torch.Tensor,
                        affinity: torch.Tensor,
                        radius: int,
                        beta: float,
                        logt: int,
                        rule: str = 'all') -> torch.Tensor:
    """``vec(s) T^t`` for ``t = 2^logt``, the transition applied as a
    stencil::

        A_ij = A_ji = a_p for pair p = (i, j);  A_ii = 1;  0 otherwise
        T = A^beta / sum_i A_ij^beta              (columns sum to 1)
        s_j <- (s_j + sum_{i ~ j} a_ij^beta s_i) / (1 + sum_{i ~ j} a_ij^beta)

    so each ``s*_j`` is a weighted average of the scores of the pixels
    that reach j: PSA's ``cam_vec @ trans_mat`` (``infer_aff.py``) and
    IRN's ``propagate_to_edge`` (the paper's ``vec(M*) = T^t vec(M)``
    with row-normalised ``T`` is the same product transposed: A is
    symmetric).

    A pixel's row of ``T`` has at most ``1 + 2 |offsets|`` non-zeros (69
    at radius 5), at the same offsets for every pixel, so one step is two
    shifted multiply-adds per offset of
    :func:`~mmadv.models.utils.affinity_pairs.pair_offsets` on the (C, h,
    w) scores, over the offset's :func:`~mmadv.models.utils.
    affinity_pairs.source_window`: ``O(t C P)`` time and ``O(C h w + P)``
    memory. No (hw, hw) matrix, sparse or dense, is built (PSA's and
    IRN's dense one takes ``4 (hw)^2`` bytes: 39 MB at VOC's 56 x 56 grid,
    141 GB for 3000 x 4000 pixels at stride 8).

    Args:
        scores (Tensor): (C, h, w) scores.
        affinity (Tensor): (P,) affinities of the pairs of
            :func:`~mmadv.models.utils.affinity_pairs.pair_indices` with
            ``rule``, in their order (e.g.
            :func:`~mmadv.models.utils.affinity_pairs.pair_affinity`).
        radius (int): Their radius.
        beta (float): The affinity exponent (PSA: 8, IRN: 10).
        logt (int): log2 of the number of steps (PSA and IRN's
            ``exp_times``: 8).
        rule (str): Their pair rule, ``'all'`` or ``'psa'``. Defaults to
            ``'all'``.

    Returns:
        Tensor: (C, h, w) propagated scores, in the affinities' dtype.
    """
    if scores.dim() != 3:
        raise ValueError(f'scores must be (C, h, w), got '
                         f'{tuple(scores.shape)}')
    LOGT.check(logt, 'logt')
    BETA.check(beta, 'beta')
    _, height, width = scores.shape
    windows = []
    for dy, dx in pair_offsets(radius):
        top, bottom, left, right = source_window(height, width, radius, dy,
                                                 dx, rule)
        if bottom > top and right > left:
            windows.append((dy, dx, top, bottom, left, right))
    sizes = [(bottom - top) * (right - left)
             for _, _, top, bottom, left, right in windows]
    if sum(sizes) != affinity.numel():
        raise ValueError(f'{affinity.numel()} affinities for {sum(sizes)} '
                         f'pairs ({rule!r}) of a {height} x {width} grid at '
                         f'radius {radius}')
    column_sum = affinity.new_ones(height, width)  # A_jj^beta = 1
    walked = scores.to(affinity.dtype, copy=True)
    step = torch.empty_like(walked)
    # a step's multiply-adds (into, from, weight) from one of the two
    # buffers into the other, as views made once (3x faster on a small
    # grid than views made at every step)
    stencils = ([], [])
    for (dy, dx, top, bottom, left, right), weight in zip(
            windows, affinity.split(sizes)):
        weight = weight.reshape(bottom - top, right - left).pow(beta)
        src = (slice(None), slice(top, bottom), slice(left, right))
        dst = (slice(None), slice(top + dy, bottom + dy),
               slice(left + dx, right + dx))
        column_sum[src[1:]] += weight
        column_sum[dst[1:]] += weight
        for stencil, (old, new) in zip(stencils,
                                       ((walked, step), (step, walked))):
            stencil += [(new[dst], old[src], weight),
                        (new[src], old[dst], weight)]
    inverse = 1 / column_sum
    buffers = (walked, step)
    for i in range(2**logt):
        old, new = buffers[i % 2], buffers[1 - i % 2]
        new.copy_(old)
        for into, source, weight in stencils[i % 2]:
            into.addcmul_(source, weight)
        new.mul_(inverse)
    return buffers[2**logt % 2]


@torch.no_grad()
def embedding_stride(model: nn.Module, size: int = 128) -> int:
    """The output stride of an AffinityNet's embedding or of an IRNet's
    boundary map, measured: ``size`` divided by the width of the model's
    ``mode='tensor'`` output for a (1, 3, size, size) zero image.

    The probe runs in eval mode (no BatchNorm statistics change); the
    model's mode is restored.

    Args:
        model (nn.Module): ``AffinityNet`` (``mode='tensor'`` gives the
            embedding) or ``IRNet`` (the boundary map B), on its device.
        size (int): Side of the probe image, a multiple of the stride.
            Defaults to 128.

    Returns:
        int: The stride, e.g. 8 for PSA's ResNet-38 levels, 4 for IRN's
        ResNet-50 boundary map.
    """
    param = next(model.parameters())
    probe = param.new_zeros(1, 3, size, size)
    training = model.training
    model.eval()
    try:
        width = model(probe, mode='tensor').shape[-1]
    finally:
        model.train(training)
    if size % width:
        raise ValueError(f'embedding width {width} for a {size}x{size} '
                         'image: not an integer stride')
    return size // width


@torch.no_grad()
def affinity_refine_maps(model: nn.Module,
                         image: torch.Tensor,
                         classes: torch.Tensor,
                         maps: torch.Tensor,
                         bg_alpha: float,
                         beta: float,
                         logt: int,
                         stride: int) -> torch.Tensor:
    """Attention maps refined by AffinityNet's random walk, as PSA's
    ``infer_aff.py``.

    1. The image is zero-padded at the bottom and right to a multiple of
       ``stride``, (H', W'); ``f = model(image, mode='tensor')`` must be
       (D, H' / stride, W' / stride).
    2. Scores ``s = [(1 - max_k A_k)^bg_alpha, A_1, ..., A_K]``, zero-padded
       to (H', W') and average-pooled by ``stride`` (PSA's
       ``F.avg_pool2d(cam, 8, 8)``).
    3. ``s* = stencil_random_walk(s, a, model.radius, beta, logt,
       model.pair_rule)`` with the affinities ``a = pair_affinity(f,
       model.radius, model.distance, model.pair_rule)`` of the model's
       pairs (PSA's ``resnet38_aff.py`` makes them a dense matrix, its
       transposes and the identity: the same ``A``), upsampled bilinearly
       (align_corners=False) to (H', W') and cropped to (H, W).
    4. ``A'_k = s*_k / (s*_k + s*_bg)`` (0 where both are 0).

    ``A'_k > 0.5`` exactly where ``s*_k > s*_bg``, and ``A'_k`` increases
    with ``s*_k``, so thresholding the refined maps at 0.5 (background
    below, else the best class) is PSA's ``argmax`` over
    ``[s*_bg, s*_1, ..., s*_K]`` (up to exact ties).

    Args:
        model (nn.Module): Trained :class:`~mmadv.models.AffinityNet` in
            eval mode, on the image's device.
        image (Tensor): (3, H, W) preprocessed image.
        classes (Tensor): (K,) 0-based classes of ``maps``.
        maps (Tensor): (K, H, W) attention maps in [0, 1].
        bg_alpha (float): Background exponent (PSA's ``infer_aff.py
            --alpha``: 16).
        beta (float): See :func:`stencil_random_walk`.
        logt (int): See :func:`stencil_random_walk`.
        stride (int): Output stride of the model's embedding
            (:func:`embedding_stride`; PSA's: 8).

    Returns:
        Tensor: (K, H, W) float refined maps in [0, 1], on the image's
        device.
    """
    if image.dim() != 3:
        raise ValueError(f'image must be (3, H, W), got {tuple(image.shape)}')
    height, width = image.shape[-2:]
    classes = torch.as_tensor(classes).reshape(-1)
    maps = torch.as_tensor(maps, device=image.device).float()
    if maps.shape != (classes.numel(), height, width):
        raise ValueError(f'maps must be ({classes.numel()}, {height}, '
                         f'{width}), got {tuple(maps.shape)}')
    BG_ALPHA.check(bg_alpha, 'bg_alpha')
    if not classes.numel():
        return maps
    pad = (0, -width % stride, 0, -height % stride)
    padded_height, padded_width = height + pad[3], width + pad[1]
    embedding = model(F.pad(image, pad)[None], mode='tensor')[0]
    size = (padded_height // stride, padded_width // stride)
    if tuple(embedding.shape[-2:]) != size:
        raise ValueError(f'embedding of {tuple(embedding.shape[-2:])} for an '
                         f'image of {padded_height}x{padded_width}: the '
                         f'model does not have stride {stride}')
    background = (1 - maps.max(dim=0, keepdim=True).values).pow(bg_alpha)
    scores = F.pad(torch.cat([background, maps]), pad)
    scores = F.avg_pool2d(scores[None], stride)[0]
    affinity = pair_affinity(embedding.float()[None], model.radius,
                             model.distance, model.pair_rule)[0]
    walked = stencil_random_walk(scores, affinity, model.radius, beta, logt,
                                 model.pair_rule)
    walked = F.interpolate(
        walked[None], size=(padded_height, padded_width), mode='bilinear',
        align_corners=False)[0, :, :height, :width]
    return torch.nan_to_num(walked[1:] / (walked[1:] + walked[:1]), nan=0.)
