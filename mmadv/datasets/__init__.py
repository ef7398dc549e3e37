from .coco import COCOImageLabelDataset, COCOLabelPNGDataset
from .label_io import (colour_labels, label_palette, read_label_png,
                       read_rgb_image, save_label_png)
from .label_png_dataset import LabelPNGDataset
from .map_io import (folder_classes, list_map_names, load_maps, map_path,
                     read_meta, save_maps, write_meta)
from .transforms import *  # noqa: F401,F403
from .voc_image_labels import ImageLabelDataset, VOCImageLabelDataset

__all__ = [
    'COCOImageLabelDataset', 'COCOLabelPNGDataset', 'ImageLabelDataset',
    'LabelPNGDataset', 'VOCImageLabelDataset', 'colour_labels',
    'label_palette', 'read_label_png', 'read_rgb_image', 'save_label_png',
    'folder_classes', 'list_map_names', 'load_maps', 'map_path', 'read_meta',
    'save_maps', 'write_meta'
]
