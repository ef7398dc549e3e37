from .map_metrics import ThresholdSweep, confusion_matrix, iou_summary

__all__ = ['ThresholdSweep', 'confusion_matrix', 'iou_summary']
