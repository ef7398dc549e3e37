"""IRN's random walk on boundary affinities (Ahn, Cho and Kwak, CVPR 2019,
Sec. 4; ``misc/indexing.py`` ``propagate_to_edge`` and
``step/make_sem_seg_labels.py`` of https://github.com/jiwoon-ahn/irn),
without a transition matrix.

IRN builds the dense (hw, hw) transition matrix at stride 4 and squares it
``exp_times`` times: at VOC's 125 x 125 grid a 977 MB matrix and about
6e13 multiply-adds per image, which runs out of memory on 11 GB GPUs. A
pixel's row of the matrix has ``1 + 2 P / (hw)`` non-zeros (69 at radius
5), all at the same offsets, so here the scores take the ``2^logt`` steps
as a stencil over those offsets
(:func:`~mmadv.pseudo_labels.random_walk.stencil_random_walk`, which
PSA's walk shares): the same ``vec(s) T^t`` in ``O(t C P)`` time and
``O(P)`` memory.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.utils.boundary_affinity import boundary_affinity
from ..utils.domain import Domain
from .random_walk import stencil_random_walk

# the walk's pair radius in cells (IRN: 5); a step's cost grows with its
# square
RADIUS = Domain(1, 16, integer=True)
# IRN's walk: radius 5 (make_sem_seg_labels.py), beta 10 and 2^8 steps
# (run_sample.py's beta and exp_times)
IRN_WALK = dict(radius=5, beta=10, logt=8)
# the least size B's input is padded to: IRN's EdgeDisplacement crop_size
PAD_SIZE = 512
PAD = Domain(0, 4096, integer=True)


@torch.no_grad()
def boundary_refine_maps(maps: torch.Tensor,
                         boundary: torch.Tensor,
                         stride: int,
                         radius: int = IRN_WALK['radius'],
                         beta: float = IRN_WALK['beta'],
                         logt: int = IRN_WALK['logt']) -> torch.Tensor:
    """IRN's semantic random walk of an image's maps.

    1. The maps, resized (bilinear) to B's grid (h, w), times ``1 - B``;
    2. walked with the boundary affinities of every pair closer than
       ``radius`` (:func:`~mmadv.models.utils.boundary_affinity.
       boundary_affinity` with ``rule='all'``: IRN pads B with 1 on the
       left, right and bottom, which gives the pairs leaving the grid
       affinity 0, and crops them away) and
       :func:`~mmadv.pseudo_labels.random_walk.stencil_random_walk`;
    3. upsampled by ``stride`` (bilinear, no corner alignment), cropped
       to the maps' (H, W) at the top left (IRN's ``make_sem_seg_labels``:
       ``scale_factor=4``, then ``[:H, :W]``) and divided by their one
       global maximum (IRN: over all classes), so that IRN's background
       threshold (``sem_seg_bg_thres`` 0.25) applies to them as to maps.

    Args:
        maps (Tensor): (K, H, W) maps in [0, 1].
        boundary (Tensor): (h, w) B in [0, 1], h = ceil(H / stride) and
            w = ceil(W / stride) (:func:`boundary_map`).
        stride (int): B's stride (IRN's: 4).
        radius (int): Pairs closer than this (IRN's walk: 5).
        beta (float): Affinity exponent (IRN: 10).
        logt (int): ``2^logt`` steps (IRN: 8).

    Returns:
        Tensor: (K, H, W) refined maps in [0, 1].
    """
    RADIUS.check(radius, 'radius')
    height, width = boundary.shape
    if (height, width) != (-(-maps.shape[-2] // stride),
                           -(-maps.shape[-1] // stride)):
        raise ValueError(f'a boundary map of {height}x{width} is not at '
                         f'stride {stride} of maps of '
                         f'{maps.shape[-2]}x{maps.shape[-1]}')
    if not maps.shape[0]:
        return maps.clone()
    scores = F.interpolate(maps[None], size=(height, width),
                           mode='bilinear', align_corners=False)[0]
    scores = scores * (1 - boundary)
    affinity = boundary_affinity(boundary[None], radius, 'all')[0]
    walked = stencil_random_walk(scores, affinity, radius, beta, logt)
    walked = F.interpolate(walked[None], scale_factor=stride,
                           mode='bilinear', align_corners=False)[0]
    walked = walked[:, :maps.shape[-2], :maps.shape[-1]]
    return walked / walked.max().clamp_min(1e-12)


def padded_size(height: int, width: int, multiple: int,
                pad_size: int) -> Tuple[int, int]:
    """The size an image is zero-padded to (bottom and right) for B: at
    least ``pad_size`` square (IRN's ``crop_size``; 0: no minimum) and a
    multiple of ``multiple`` (the backbone's coarsest stride)."""
    return tuple(-(-max(side, pad_size) // multiple) * multiple
                 for side in (height, width))


@torch.no_grad()
def boundary_map(model: nn.Module,
                 image: torch.Tensor,
                 stride: int,
                 flip: bool = True,
                 pad_size: int = PAD_SIZE) -> torch.Tensor:
    """IRNet's class-boundary map B of one image, as IRN's
    ``EdgeDisplacement.forward`` (``net/resnet50_irn.py``): the image and,
    with ``flip``, its horizontal flip are zero-padded at the bottom and
    right (:func:`padded_size`: IRN pads to its crop size, 512), B's logits
    are cropped to the image's ``(ceil(H / stride), ceil(W / stride))``
    cells, and the flipped image's (flipped back) are averaged with them
    before the sigmoid::

        B = sigmoid(l(x) / 2 + flip(l(flip(x))) / 2)

    Args:
        model (nn.Module): :class:`~mmadv.models.IRNet` in eval mode.
        image (Tensor): (3, H, W) preprocessed image.
        stride (int): B's output stride (IRN's: 4).
        flip (bool): Average with the flipped image (IRN). Defaults to True.
        pad_size (int): The least padded size (IRN's crop size, 512, the
            default); 0 pads to a multiple of the coarsest stride only:
            IRN's B wherever the padding does not reach the backbone's
            receptive field (away from the bottom and right), at a fraction
            of the cost on small images (64 x 64 costs 1/64 of 512 x 512).

    Returns:
        Tensor: (ceil(H / stride), ceil(W / stride)) float B in [0, 1].
    """
    height, width = image.shape[-2:]
    size = (-(-height // stride), -(-width // stride))
    padded = padded_size(height, width, max(model.strides), pad_size)
    pad = (0, padded[1] - width, 0, padded[0] - height)
    views = [image, image.flip(-1)] if flip else [image]
    logits = model.boundary_logits(F.pad(torch.stack(views), pad))
    if tuple(logits.shape[-2:]) != (padded[0] // stride,
                                    padded[1] // stride):
        raise ValueError(f'boundary of {tuple(logits.shape[-2:])} for an '
                         f'image padded to {padded[0]}x{padded[1]}: the '
                         f'model does not have stride {stride}')
    logits = logits[..., :size[0], :size[1]].float()
    return torch.sigmoid((logits[0] + logits[1].flip(-1)) /
                         2 if flip else logits[0])
