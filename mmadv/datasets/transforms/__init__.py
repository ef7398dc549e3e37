from .pack_weak_seg_inputs import PackWeakSegInputs

__all__ = ['PackWeakSegInputs']
