from .erasing_visualization_hook import ErasingVisualizationHook, erasing_grid
from .progress_bar_hook import ProgressBarHook

__all__ = ['ErasingVisualizationHook', 'erasing_grid', 'ProgressBarHook']
