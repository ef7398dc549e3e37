from .affinity_pairs import (DISTANCES, check_distance, pair_affinity,
                             pair_indices, pair_labels, pair_offsets)

__all__ = [
    'DISTANCES', 'check_distance', 'pair_affinity', 'pair_indices',
    'pair_labels', 'pair_offsets'
]
