"""IRN's affinities from a class-boundary map: a pair of pixels is as
affine as the strongest boundary on the line between them is weak.

IRN (Ahn, Cho and Kwak, "Weakly Supervised Learning of Instance
Segmentation with Inter-pixel Relations", CVPR 2019; code
https://github.com/jiwoon-ahn/irn, ``misc/indexing.py``) predicts a
boundary map B in [0, 1] and derives, for the pairs closer than a radius
(the pairs of :func:`~mmadv.models.utils.affinity_pairs.pair_indices`,
whose offsets are IRN's ``search_dirs``, and IRN's sources with
``rule='psa'``)::

    a_ij = 1 - max_{k in path(i, j)} B_k

where the path is every pixel ``k`` of the box spanned by ``i`` and ``j``
whose centre is closer than 1 pixel to the line through their centres,
the two ends included (``PathIndex.get_all_dir_paths``).
"""
import functools
from typing import List, Tuple

import torch

from .affinity_pairs import pair_offsets, source_window


@functools.lru_cache(maxsize=256)
def line_offsets(dy: int, dx: int) -> Tuple[Tuple[int, int], ...]:
    """The pixels ``(y, x)`` of the path from ``(0, 0)`` to ``(dy, dx)``:
    those of the bounding box whose squared distance to the line,
    ``(dy x - dx y)^2 / (dy^2 + dx^2)``, is below 1, in raster order
    (IRN sorts them destination first; the maximum does not depend on
    the order).

    Args:
        dy (int): Row offset (not both 0).
        dx (int): Column offset.

    Returns:
        tuple[tuple[int, int], ...]: The path, both ends included.
    """
    length_sq = dy * dy + dx * dx
    if length_sq == 0:
        raise ValueError('a path needs two different pixels')
    return tuple((y, x) for y in range(min(0, dy), max(0, dy) + 1)
                 for x in range(min(0, dx), max(0, dx) + 1)
                 if (dy * x - dx * y)**2 < length_sq)


def boundary_affinity(boundary: torch.Tensor,
                      radius: int,
                      rule: str = 'psa') -> torch.Tensor:
    """Affinities ``a_ij = 1 - max B`` along each pair's path, for the
    pairs of :func:`~mmadv.models.utils.affinity_pairs.pair_indices`
    (same radius and rule), in their order.

    Args:
        boundary (Tensor): B of shape (N, h, w), in [0, 1].
        radius (int): Pairs closer than ``radius`` (IRN: 10 to train at
            stride 4, 5 for the random walk).
        rule (str): Sources, see
            :func:`~mmadv.models.utils.affinity_pairs.source_window`.
            Defaults to ``'psa'``, IRN's (``PathIndex.get_path_indices``:
            rows ``[0, h - r + 1)``, columns ``[r - 1, w - r + 1)``).

    Returns:
        Tensor: (N, P) affinities in [0, 1].
    """
    if boundary.dim() != 3:
        raise ValueError(f'boundary must be (N, h, w), got '
                         f'{tuple(boundary.shape)}')
    height, width = boundary.shape[-2:]
    affinities: List[torch.Tensor] = []
    # one offset at a time: its sources are a rectangle, and each pixel of
    # its path the same rectangle shifted
    for dy, dx in pair_offsets(radius):
        top, bottom, left, right = source_window(height, width, radius, dy,
                                                 dx, rule)
        if bottom <= top or right <= left:
            continue
        on_path = torch.stack([
            boundary[:, top + y:bottom + y, left + x:right + x]
            for y, x in line_offsets(dy, dx)
        ])
        affinities.append(1 - on_path.amax(dim=0).flatten(1))
    if not affinities:
        affinities.append(boundary.flatten(1)[:, :0])
    return torch.cat(affinities, dim=1)
