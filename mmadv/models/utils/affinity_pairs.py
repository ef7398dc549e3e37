"""The pixel pairs of AffinityNet: neighbours within a radius on a grid.

PSA (Ahn and Kwak, "Learning Pixel-level Semantic Affinity with Image-level
Supervision", CVPR 2018, https://arxiv.org/abs/1803.10464; code
https://github.com/jiwoon-ahn/psa) learns the affinity of every pair of
feature-map pixels closer than ``radius`` (Eq. 1-4 of the paper). Each
unordered pair is listed once, by the offset ``(dy, dx)`` from its source
to its destination, in the order of PSA's ``search_dist``
(``tool/pyutils.get_indices_of_pairs``, ``voc12/data.py``
``ExtractAffinityLabelInRadius``), from the sources that a rule
(:func:`source_window`) allows: every pixel whose neighbour is in the grid,
or PSA's crop away from the edges.
"""
import functools
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

Distance = Callable[[torch.Tensor], torch.Tensor]

# The feature distance of pairs from ``|f_i - f_j|`` of shape (N, D, ...).
DISTANCES: Dict[str, Distance] = dict(
    sum=lambda diff: diff.sum(dim=1),  # ||f_i - f_j||_1, paper's Eq. 1
    mean=lambda diff: diff.mean(dim=1),  # PSA's resnet38_aff.py
)


def check_distance(distance: str) -> Distance:
    """The reduction of :data:`DISTANCES` named ``distance``.

    Raises:
        ValueError: ``distance`` is not ``'sum'`` or ``'mean'``.
    """
    if distance not in DISTANCES:
        raise ValueError(f'distance must be one of {sorted(DISTANCES)}, '
                         f'got {distance!r}')
    return DISTANCES[distance]


def pair_offsets(radius: int) -> List[Tuple[int, int]]:
    """Offsets ``(dy, dx)`` from a pixel to its later neighbours.

    PSA's ``search_dist``::

        [(0, dx) for dx in 1 .. radius - 1]
        + [(dy, dx) for dy in 1 .. radius - 1
                    for dx in -radius + 1 .. radius - 1
                    if dx * dx + dy * dy < radius * radius]

    Together with their negatives they cover the disc
    ``0 < dy^2 + dx^2 < radius^2`` exactly once: each unordered pair is
    listed once. ``radius=5`` gives 34 offsets.

    Args:
        radius (int): Pairs are closer than ``radius`` pixels; at least 1
            (1 gives no pairs).

    Returns:
        list[tuple[int, int]]: The offsets, in PSA's order.
    """
    if int(radius) != radius or radius < 1:
        raise ValueError(f'radius must be an integer >= 1, got {radius}')
    offsets = [(0, dx) for dx in range(1, radius)]
    offsets += [(dy, dx) for dy in range(1, radius)
                for dx in range(-radius + 1, radius)
                if dx * dx + dy * dy < radius * radius]
    return offsets


PAIR_RULES = ('all', 'psa')


def source_window(height: int, width: int, radius: int, dy: int, dx: int,
                  rule: str = 'all') -> Tuple[int, int, int, int]:
    """Rows ``[top, bottom)`` and columns ``[left, right)`` of the sources
    of offset ``(dy, dx)`` in an ``height x width`` grid, by ``rule``:

    - ``'all'``: every source whose destination is inside the grid (each
      pair of pixels closer than ``radius`` once).
    - ``'psa'``: PSA's crop (``tool/pyutils.get_indices_of_pairs`` for
      the walk, ``voc12/data.py ExtractAffinityLabelInRadius`` for the
      training labels): the same sources for every offset, rows
      ``[0, h - r + 1)`` and columns ``[r - 1, w - r + 1)``, so that the
      pixels within ``r - 1`` of the left, right and bottom edges are no
      sources (they keep the pairs in which they are destinations).

    The window is empty (``bottom <= top`` or ``right <= left``) where the
    grid is too small.
    """
    if rule == 'psa':
        crop = radius - 1
        return 0, height - crop, crop, width - crop
    if rule != 'all':
        raise ValueError(f'pair rule must be one of {PAIR_RULES}, got '
                         f'{rule!r}')
    return 0, height - dy, max(0, -dx), width - max(0, dx)


@functools.lru_cache(maxsize=16)
def pair_indices(height: int,
                 width: int,
                 radius: int,
                 device: Optional[torch.device] = None,
                 rule: str = 'all') -> Tuple[torch.Tensor, torch.Tensor]:
    """Flat indices of the two pixels of every pair of ``rule`` in an
    ``height x width`` grid.

    Pair ``p`` joins the source ``src[p] = y * width + x`` to the
    destination ``dst[p] = (y + dy) * width + (x + dx)`` for an offset
    ``(dy, dx)`` of :func:`pair_offsets` and a source in its
    :func:`source_window`; offset by offset in PSA's order and, for each
    offset, sources in raster order.

    Args:
        height (int): Grid height h.
        width (int): Grid width w.
        radius (int): See :func:`pair_offsets`.
        device (torch.device, optional): Device of the result.
        rule (str): ``'all'`` or ``'psa'``, see :func:`source_window`.
            Defaults to ``'all'``.

    Returns:
        tuple[Tensor, Tensor]: ``src`` and ``dst``, long, of shape (P,);
        shared by the calls with the same arguments (cached): read only.
    """
    grid = torch.arange(height * width, device=device).reshape(height, width)
    src, dst = [grid.new_zeros(0)], [grid.new_zeros(0)]
    for dy, dx in pair_offsets(radius):
        top, bottom, left, right = source_window(height, width, radius, dy,
                                                 dx, rule)
        if bottom <= top or right <= left:
            continue
        src.append(grid[top:bottom, left:right].reshape(-1))
        dst.append(grid[top + dy:bottom + dy,
                        left + dx:right + dx].reshape(-1))
    return torch.cat(src), torch.cat(dst)


def pair_affinity(embedding: torch.Tensor,
                  radius: int,
                  distance: str = 'sum',
                  rule: str = 'all') -> torch.Tensor:
    """Affinities of the pairs of :func:`pair_indices`::

        a_ij = exp(-||f_i - f_j||_1)          distance='sum' (paper, Eq. 1)
        a_ij = exp(-||f_i - f_j||_1 / D)      distance='mean' (PSA's code)

    Args:
        embedding (Tensor): Features f of shape (N, D, h, w).
        radius (int): See :func:`pair_offsets`.
        distance (str): ``'sum'`` or ``'mean'`` over the D channels.
            Defaults to ``'sum'``.
        rule (str): See :func:`source_window`. Defaults to ``'all'``.

    Returns:
        Tensor: (N, P) affinities in (0, 1].
    """
    reduce = check_distance(distance)
    height, width = embedding.shape[-2:]
    distances = []
    # one offset at a time, by slicing: the sources of an offset in raster
    # order are a rectangle of the grid (4-5x faster than gathering the
    # pairs of pair_indices, forward and backward, on a CPU)
    for dy, dx in pair_offsets(radius):
        top, bottom, left, right = source_window(height, width, radius, dy,
                                                 dx, rule)
        if bottom <= top or right <= left:
            continue
        src = embedding[:, :, top:bottom, left:right]
        dst = embedding[:, :, top + dy:bottom + dy, left + dx:right + dx]
        distances.append(reduce((src - dst).abs()).flatten(1))
    if not distances:  # no pairs: (N, 0), still in the autograd graph
        distances.append(embedding.flatten(1)[:, :0])
    return torch.exp(-torch.cat(distances, dim=1))


def labels_at(data_samples, size: Tuple[int, int]) -> torch.Tensor:
    """The (N, h, w) long labels of the samples' ``gt_sem_seg`` resized to
    ``size`` by nearest neighbour (``F.interpolate(mode='nearest')``: for
    an input of (s h, s w), label pixel ``(s y, s x)``, where the
    receptive field of feature ``(y, x)`` is centred), the labels of a
    pair model's grid.

    Raises:
        KeyError: The samples have no ``gt_sem_seg``.
    """
    try:
        labels = torch.stack([s.gt_sem_seg.data for s in data_samples])
    except AttributeError:
        raise KeyError('data samples have no gt_sem_seg: load the label '
                       'PNGs with LoadAnnotations and pack them with '
                       'PackSegInputs') from None
    labels = F.interpolate(labels.float(), size=tuple(size), mode='nearest')
    return labels[:, 0].long()


def pair_labels(label: torch.Tensor,
                radius: int,
                ignore_index: int = 255,
                rule: str = 'all'
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Affinity labels of the pairs of :func:`pair_indices`, as PSA's
    ``ExtractAffinityLabelInRadius``.

    With ``l_i``, ``l_j`` the labels of a pair's two pixels:

    - ``bg_pos``: ``l_i = l_j = 0`` (both background);
    - ``fg_pos``: ``l_i = l_j``, not 0 and not ``ignore_index``;
    - ``neg``: ``l_i != l_j``, neither ``ignore_index``.

    Pairs touching an ignored pixel are in none of the three.

    Args:
        label (Tensor): (N, h, w) long labels: 0 background, ``c + 1``
            foreground class c, ``ignore_index`` unknown.
        radius (int): See :func:`pair_offsets`.
        ignore_index (int): The unknown label. Defaults to 255.
        rule (str): See :func:`source_window`. Defaults to ``'all'``.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``bg_pos``, ``fg_pos`` and ``neg``,
        bool of shape (N, P).
    """
    if label.dim() != 3:
        raise ValueError(f'label must be (N, h, w), got {tuple(label.shape)}')
    height, width = label.shape[-2:]
    src, dst = pair_indices(height, width, radius, label.device, rule)
    flat = label.flatten(1)
    label_src, label_dst = flat[:, src], flat[:, dst]
    same = label_src == label_dst
    valid = (label_src != ignore_index) & (label_dst != ignore_index)
    bg_pos = same & (label_src == 0)
    fg_pos = same & (label_src != 0) & valid
    neg = ~same & valid
    return bg_pos, fg_pos, neg
