from .check_seg_labels import CheckSegLabels
from .pack_weak_seg_inputs import PackWeakSegInputs

__all__ = ['CheckSegLabels', 'PackWeakSegInputs']
