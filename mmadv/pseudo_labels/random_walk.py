"""Random-walk propagation of attention maps with AffinityNet's affinities
(Ahn and Kwak, CVPR 2018, https://arxiv.org/abs/1803.10464, Sec. 3.4),
after PSA's ``infer_aff.py`` and ``network/resnet38_aff.py``
(``to_dense=True``) of https://github.com/jiwoon-ahn/psa.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.utils.affinity_pairs import pair_affinity, pair_indices
from ..utils.domain import Domain

# log2 of the walk's steps (PSA and IRN: 8); 2^12 steps bound its cost
LOGT = Domain(0, 12, integer=True)
# the affinity exponent: a negative one turns the missing pairs' zero
# affinities into infinities
BETA = Domain(0)
# the background score's exponent: (1 - max)^bg_alpha stays in [0, 1]
BG_ALPHA = Domain(0)


def dense_affinity(embedding: torch.Tensor,
                   radius: int = 5,
                   distance: str = 'sum',
                   rule: str = 'all') -> torch.Tensor:
    """The (hw, hw) affinity matrix of an embedding::

        A_ij = A_ji = exp(-dist(f_i, f_j))   (i, j) a pair of ``rule``
        A_ii = 1
        A_ij = 0                             otherwise

    with ``dist`` as in
    :func:`~mmadv.models.utils.affinity_pairs.pair_affinity` and the pairs
    of :func:`~mmadv.models.utils.affinity_pairs.pair_indices`; pixels are
    flattened in raster order. PSA's ``resnet38_aff.py`` (``to_dense``)
    builds the matrix of ``rule='psa'`` from its sparse pairs, their
    transposes and the identity.

    Args:
        embedding (Tensor): (D, h, w) features f.
        radius (int): Pair radius. Defaults to 5 (PSA).
        distance (str): ``'sum'`` or ``'mean'``. Defaults to ``'sum'``.
        rule (str): ``'all'`` (every pair closer than ``radius``) or
            ``'psa'``, see
            :func:`~mmadv.models.utils.affinity_pairs.source_window`.
            Defaults to ``'all'``.

    Returns:
        Tensor: (h w, h w) affinities, on the embedding's device.
    """
    if embedding.dim() != 3:
        raise ValueError('embedding must be (D, h, w), got '
                         f'{tuple(embedding.shape)}')
    height, width = embedding.shape[-2:]
    src, dst = pair_indices(height, width, radius, embedding.device, rule)
    affinity = pair_affinity(embedding[None], radius, distance, rule)[0]
    dense = torch.eye(
        height * width, dtype=affinity.dtype, device=affinity.device)
    dense[src, dst] = affinity
    dense[dst, src] = affinity
    return dense


def _power(matrix: torch.Tensor, exponent: float) -> torch.Tensor:
    """A new tensor ``matrix ** exponent``, elementwise; a power of two by
    squaring in place (a few times faster than ``pow`` on an (n, n)
    matrix)."""
    power = int(exponent)
    if power != exponent or power < 2 or power & (power - 1):
        return matrix.pow(exponent)
    result = matrix * matrix
    for _ in range(power.bit_length() - 2):
        result.mul_(result)
    return result


def random_walk(scores: torch.Tensor, affinity: torch.Tensor, beta: float,
                logt: int) -> torch.Tensor:
    """Propagate score maps by ``t = 2^logt`` random-walk steps::

        T = A^beta / sum_i A_ij^beta        (elementwise power,
                                             columns sum to 1)
        vec(s*) = vec(s) T^t                (PSA's cam_vec @ trans_mat)

    so each ``s*_j`` is a weighted average of the scores of the pixels
    that reach j. The paper's ``vec(M*) = T^t vec(M)`` with row-normalised
    ``T`` is the same product transposed (A is symmetric).

    Of two equal routes the cheaper runs: ``T^t`` by squaring ``logt``
    times (PSA's, ``logt n^3`` multiply-adds for n = h w) or ``t``
    products of the (C, n) scores with ``T`` (``t C n^2``), which wins
    unless ``t C > logt n`` (at VOC's 56 x 56 grid with t = 256 and 4
    channels: 10 G against 246 G).

    Args:
        scores (Tensor): (C, h, w) non-negative scores.
        affinity (Tensor): (h w, h w) affinities, e.g.
            :func:`dense_affinity`.
        beta (float): Affinity exponent (PSA: 8).
        logt (int): log2 of the number of steps (PSA: 8).

    Returns:
        Tensor: (C, h, w) propagated scores.
    """
    if scores.dim() != 3:
        raise ValueError(f'scores must be (C, h, w), got '
                         f'{tuple(scores.shape)}')
    LOGT.check(logt, 'logt')
    BETA.check(beta, 'beta')
    channels, height, width = scores.shape
    area = height * width
    if affinity.shape != (area, area):
        raise ValueError(f'affinity must be ({area}, {area}) for scores of '
                         f'{height}x{width}, got {tuple(affinity.shape)}')
    trans = _power(affinity, beta)
    trans.div_(trans.sum(dim=0, keepdim=True))
    walked = scores.reshape(channels, area).to(trans.dtype)
    steps = 2**logt
    if steps * channels <= logt * area:
        for _ in range(steps):
            walked = walked @ trans
    else:
        for _ in range(logt):
            trans = trans @ trans
        walked = walked @ trans
    return walked.reshape(channels, height, width)


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
def refine_maps(model: nn.Module,
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
    3. ``s* = random_walk(s, dense_affinity(f, model.radius,
       model.distance, model.pair_rule), beta, logt)``, upsampled bilinearly
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
        beta (float): See :func:`random_walk`.
        logt (int): See :func:`random_walk`.
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
    affinity = dense_affinity(embedding.float(), model.radius, model.distance,
                              model.pair_rule)
    walked = random_walk(scores, affinity, beta, logt)
    walked = F.interpolate(
        walked[None], size=(padded_height, padded_width), mode='bilinear',
        align_corners=False)[0, :, :height, :width]
    return torch.nan_to_num(walked[1:] / (walked[1:] + walked[:1]), nan=0.)
