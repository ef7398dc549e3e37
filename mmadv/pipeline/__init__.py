from .launcher import Launcher
from .rows import Row, summary_table
from .run import run_pipeline
from .runner import StepRunner
from .settings import PipelineSettings, threshold_labeler
from .step import Step

__all__ = [
    'Launcher', 'Row', 'summary_table', 'run_pipeline', 'StepRunner',
    'PipelineSettings', 'threshold_labeler', 'Step'
]
