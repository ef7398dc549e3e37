from .coco import COCOImageLabelDataset, COCOLabelPNGDataset
from .label_png_dataset import LabelPNGDataset
from .transforms import *  # noqa: F401,F403
from .voc_image_labels import ImageLabelDataset, VOCImageLabelDataset

__all__ = [
    'COCOImageLabelDataset', 'COCOLabelPNGDataset', 'ImageLabelDataset',
    'LabelPNGDataset', 'VOCImageLabelDataset'
]
