"""IRN's random walk on boundary affinities (Ahn, Cho and Kwak, CVPR 2019,
Sec. 4; ``misc/indexing.py`` ``propagate_to_edge`` and
``step/make_sem_seg_labels.py`` of https://github.com/jiwoon-ahn/irn), with
a sparse transition matrix.

IRN builds the dense (hw, hw) transition matrix at stride 4 and squares it
``exp_times`` times: at VOC's 125 x 125 grid a 977 MB matrix and about
6e13 multiply-adds per image, which runs out of memory on 11 GB GPUs. The
matrix has ``1 + 2 P / (hw)`` non-zeros a row (69 at radius 5), so here
the scores take the ``2^logt`` steps one sparse product at a time: the
same ``vec(s) T^t``, in ``O(t C P)``.
"""
import torch
import torch.nn.functional as F

from ..models.utils.affinity_pairs import pair_indices
from ..models.utils.boundary_affinity import boundary_affinity


def sparse_transition(affinity: torch.Tensor, src: torch.Tensor,
                      dst: torch.Tensor, num_nodes: int,
                      beta: float) -> torch.Tensor:
    """The random walk's transition matrix as a sparse (COO) tensor::

        A_ij = A_ji = a_p for pair p = (i, j);  A_ii = 1;  0 otherwise
        T = A^beta / sum_i A_ij^beta              (columns sum to 1)

    Args:
        affinity (Tensor): (P,) affinities of the pairs ``(src, dst)``.
        src (Tensor): (P,) long.
        dst (Tensor): (P,) long.
        num_nodes (int): n.
        beta (float): The affinity exponent (IRN: 10).

    Returns:
        Tensor: (n, n) coalesced sparse COO ``T``, in the affinities'
        dtype.
    """
    nodes = torch.arange(num_nodes, device=affinity.device)
    rows = torch.cat([src, dst, nodes])
    cols = torch.cat([dst, src, nodes])
    values = torch.cat([affinity, affinity,
                        affinity.new_ones(num_nodes)]).pow(beta)
    column_sum = torch.zeros(num_nodes, dtype=values.dtype,
                             device=values.device).index_add_(0, cols, values)
    matrix = torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values / column_sum[cols],
        (num_nodes, num_nodes))
    return matrix.coalesce()


def sparse_random_walk(scores: torch.Tensor, transition: torch.Tensor,
                       logt: int) -> torch.Tensor:
    """``vec(s) T^t`` for ``t = 2^logt``, by ``t`` sparse products.

    Args:
        scores (Tensor): (C, h, w) scores.
        transition (Tensor): (hw, hw) sparse ``T``, e.g.
            :func:`sparse_transition`.
        logt (int): log2 of the number of steps (IRN's ``exp_times``: 8).

    Returns:
        Tensor: (C, h, w) propagated scores.
    """
    if int(logt) != logt or logt < 0:
        raise ValueError(f'logt must be an integer >= 0, got {logt}')
    channels, height, width = scores.shape
    # COO: on a CPU its products with a dense (n, C) are ~15x faster than
    # CSR's (torch 2.x, 256 x 256 at radius 5)
    transposed = transition.t().coalesce()
    walked = scores.reshape(channels, -1).t().to(transition.dtype)
    for _ in range(2**int(logt)):
        walked = torch.sparse.mm(transposed, walked)  # (s T)^T = T^T s^T
    return walked.t().reshape(channels, height, width)


@torch.no_grad()
def boundary_refine_maps(maps: torch.Tensor,
                         boundary: torch.Tensor,
                         radius: int = 5,
                         beta: float = 10.,
                         logt: int = 8) -> torch.Tensor:
    """IRN's semantic random walk of an image's maps.

    1. The maps, resized (bilinear) to B's grid (h, w), times ``1 - B``;
    2. walked with the boundary affinities of every pair closer than
       ``radius`` (:func:`~mmadv.models.utils.boundary_affinity.
       boundary_affinity` with ``rule='all'``: IRN pads B with 1 on the
       left, right and bottom, which gives the pairs leaving the grid
       affinity 0, and crops them away) and :func:`sparse_random_walk`;
    3. resized (bilinear) to the maps' size and divided by their one
       global maximum (IRN: over all classes), so that IRN's background
       threshold (``sem_seg_bg_thres`` 0.25) applies to them as to maps.

    Args:
        maps (Tensor): (K, H, W) maps in [0, 1].
        boundary (Tensor): (h, w) B in [0, 1].
        radius (int): Pairs closer than this (IRN's walk: 5).
        beta (float): Affinity exponent (IRN: 10).
        logt (int): ``2^logt`` steps (IRN: 8).

    Returns:
        Tensor: (K, H, W) refined maps in [0, 1].
    """
    if not maps.shape[0]:
        return maps.clone()
    height, width = boundary.shape
    scores = F.interpolate(maps[None], size=(height, width),
                           mode='bilinear', align_corners=False)[0]
    scores = scores * (1 - boundary)
    src, dst = pair_indices(height, width, radius, boundary.device, 'all')
    affinity = boundary_affinity(boundary[None], radius, 'all')[0]
    transition = sparse_transition(affinity, src, dst, height * width, beta)
    walked = sparse_random_walk(scores, transition, logt)
    walked = F.interpolate(walked[None], size=maps.shape[-2:],
                           mode='bilinear', align_corners=False)[0]
    return walked / walked.max().clamp_min(1e-12)
