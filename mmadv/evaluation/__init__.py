from .map_evaluation import MapEvaluation, evaluate_maps
from .map_metrics import ThresholdSweep, confusion_matrix, iou_summary
from .prediction_writer import PredictionWriter
from .threshold_rules import (FixedThreshold, MaskSweepThreshold,
                              OtsuThreshold, SubsetSweepThreshold,
                              ThresholdChoice, ThresholdRule,
                              build_threshold_rule, compare_threshold_rules)

__all__ = [
    'MapEvaluation', 'evaluate_maps', 'ThresholdSweep', 'confusion_matrix',
    'iou_summary', 'PredictionWriter', 'FixedThreshold',
    'MaskSweepThreshold', 'OtsuThreshold', 'SubsetSweepThreshold',
    'ThresholdChoice', 'ThresholdRule', 'build_threshold_rule',
    'compare_threshold_rules'
]
