from .cam_head import CAMHead
from .eraser_head import (EraserHead, ErasingResult,
                          normalized_attention_maps)

__all__ = [
    'CAMHead', 'EraserHead', 'ErasingResult', 'normalized_attention_maps'
]
