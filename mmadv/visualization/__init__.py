from .pipeline_figure import draw_pipeline_figure

__all__ = ['draw_pipeline_figure']
