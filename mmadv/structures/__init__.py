from .labels import (DEFAULT_BG_THRESHOLD, IGNORE_INDEX, MAX_CLASS_INDEX,
                     best_class, threshold_labels)

__all__ = [
    'DEFAULT_BG_THRESHOLD', 'IGNORE_INDEX', 'MAX_CLASS_INDEX', 'best_class',
    'threshold_labels'
]
