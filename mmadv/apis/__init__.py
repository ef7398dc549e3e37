"""What users call: every step of the WSSS pipeline as a function, and
the pipeline itself (:func:`run_pipeline`), as ``mmseg.apis`` does for
segmentation."""
from ..engine import (SEG_PROTOCOLS, build_runner, fit_to_dataset, init_model,
                      load_checkpoint_strict, predict, resume_checkpoint,
                      select_device, test, train)
from ..evaluation.map_evaluation import MapEvaluation, evaluate_maps
from ..evaluation.threshold_rules import (ThresholdChoice, ThresholdRule,
                                          build_threshold_rule,
                                          compare_threshold_rules)
from ..pipeline import PipelineSettings, Row, run_pipeline, summary_table
from ..pseudo_labels.label_folder import (write_affinity_labels,
                                          write_pseudo_labels)
from ..pseudo_labels.map_folders import (boundary_walk_maps, infer_maps,
                                         random_walk_maps)
from ..refinements import (REFINEMENTS, DenseCRFMaps, IRNSettings,
                           RandomWalkSettings, Refinement)
from ..utils.errors import (ConfigError, InputError, MissingInputError,
                            MMAdvError, OutputExistsError)
from .data_check import check_data

__all__ = [
    'MMAdvError', 'ConfigError', 'InputError', 'MissingInputError',
    'OutputExistsError', 'check_data', 'fit_to_dataset', 'MapEvaluation',
    'evaluate_maps',
    'boundary_walk_maps', 'infer_maps', 'init_model',
    'load_checkpoint_strict', 'random_walk_maps',
    'select_device', 'run_pipeline', 'summary_table', 'Row', 'REFINEMENTS',
    'Refinement', 'DenseCRFMaps',
    'write_affinity_labels', 'write_pseudo_labels', 'PipelineSettings',
    'RandomWalkSettings', 'IRNSettings', 'ThresholdChoice', 'ThresholdRule',
    'build_threshold_rule', 'compare_threshold_rules', 'build_runner',
    'resume_checkpoint', 'test', 'train', 'predict', 'SEG_PROTOCOLS'
]
