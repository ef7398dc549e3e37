from .affinity_pairs import (DISTANCES, PAIR_RULES, check_distance,
                             pair_affinity, pair_indices, pair_labels,
                             pair_offsets, source_window)

__all__ = [
    'DISTANCES', 'PAIR_RULES', 'check_distance', 'pair_affinity',
    'pair_indices', 'pair_labels', 'pair_offsets', 'source_window'
]
