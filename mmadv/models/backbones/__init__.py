from .timm_features import TimmFeatureBackbone

__all__ = ['TimmFeatureBackbone']
