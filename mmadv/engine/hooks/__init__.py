from .erasing_visualization_hook import (ErasingVisualizationHook,
                                         erasing_grid)

__all__ = ['ErasingVisualizationHook', 'erasing_grid']
