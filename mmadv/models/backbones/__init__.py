from .resnet38d import ResNet38d
from .timm_features import TimmFeatureBackbone

__all__ = ['ResNet38d', 'TimmFeatureBackbone']
