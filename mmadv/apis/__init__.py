"""What users call: every step of the WSSS pipeline as a function, and
the pipeline itself (:func:`run_pipeline`), as ``mmseg.apis`` does for
segmentation."""
from ..evaluation.map_evaluation import MapEvaluation, evaluate_maps
from ..evaluation.threshold_rules import (ThresholdChoice, ThresholdRule,
                                          build_threshold_rule,
                                          compare_threshold_rules)
from ..utils.errors import (ConfigError, InputError, MissingInputError,
                            MMAdvError, OutputExistsError)
from .data_check import check_data
from .dataset_fit import fit_to_dataset
from .inference import (boundary_walk_maps, infer_maps, init_model,
                        load_checkpoint_strict, refine_maps, select_device)
from .pipeline import run_pipeline, summary_table
from .pseudo_labels import write_affinity_labels, write_pseudo_labels
from .settings import IRNSettings, PipelineSettings, RandomWalkSettings
from .training import build_runner, resume_checkpoint, test, train

__all__ = [
    'MMAdvError', 'ConfigError', 'InputError', 'MissingInputError',
    'OutputExistsError', 'check_data', 'fit_to_dataset', 'MapEvaluation',
    'evaluate_maps',
    'boundary_walk_maps', 'infer_maps', 'init_model',
    'load_checkpoint_strict', 'refine_maps',
    'select_device', 'run_pipeline', 'summary_table',
    'write_affinity_labels', 'write_pseudo_labels', 'PipelineSettings',
    'RandomWalkSettings', 'IRNSettings', 'ThresholdChoice', 'ThresholdRule',
    'build_threshold_rule', 'compare_threshold_rules', 'build_runner',
    'resume_checkpoint', 'test', 'train'
]
