from .transforms import *  # noqa: F401,F403
from .voc_image_labels import VOCImageLabelDataset

__all__ = ['VOCImageLabelDataset']
