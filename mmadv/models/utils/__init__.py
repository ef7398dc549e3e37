from .affinity_pairs import (DISTANCES, PAIR_RULES, check_distance,
                             labels_at, pair_affinity, pair_indices,
                             pair_labels, pair_offsets, source_window)
from .boundary_affinity import boundary_affinity, line_offsets

__all__ = [
    'DISTANCES', 'PAIR_RULES', 'check_distance', 'labels_at', 'pair_affinity',
    'pair_indices', 'pair_labels', 'pair_offsets', 'source_window',
    'boundary_affinity', 'line_offsets'
]
