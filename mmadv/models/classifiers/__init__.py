from .adversarial_erasing_classifier import AdversarialErasingClassifier
from .multilabel_classifier import MultiLabelClassifier

__all__ = ['AdversarialErasingClassifier', 'MultiLabelClassifier']
