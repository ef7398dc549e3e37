from .map_metrics import (ThresholdSweep, confusion_matrix, iou_summary,
                          labels_from_maps, max_and_label)

__all__ = [
    'ThresholdSweep', 'confusion_matrix', 'iou_summary', 'labels_from_maps',
    'max_and_label'
]
