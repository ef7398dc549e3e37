from .check_seg_labels import CheckSegLabels
from .pack_weak_seg_inputs import PackWeakSegInputs
from .random_resized_crop import RandomResizedCrop

__all__ = ['CheckSegLabels', 'PackWeakSegInputs', 'RandomResizedCrop']
