from .affinity_labels import AffinityLabeler
from .boundary_walk import boundary_map, boundary_refine_maps
from .crf import DenseCRF, LabelCRF
from .image_size import check_image_sizes
from .label_folder import LabelJob, check_label_folder, run_jobs
from .label_io import (colour_labels, label_palette, read_label_png,
                       read_rgb_image, save_label_png)
from .labeling import (DEFAULT_BG_THRESHOLD, IGNORE_INDEX, ThresholdLabeler,
                       best_class, build_labeler, threshold_labels)
from .map_inference import (BoundaryWalkMaps, MapFunction, MultiScaleMaps,
                            RandomWalkMaps, build_map_dataset,
                            infer_map_folder, map_folder_meta,
                            multi_scale_maps, prepare_map_folder,
                            preprocess_image, preprocess_item)
from .map_io import (folder_classes, list_map_names, load_maps, map_path,
                     read_meta, save_maps, write_meta)
from .random_walk import embedding_stride, refine_maps, stencil_random_walk
from .relation_labels import RelationLabeler

__all__ = [
    'AffinityLabeler', 'DenseCRF', 'LabelCRF', 'RelationLabeler', 'LabelJob',
    'check_label_folder', 'run_jobs', 'colour_labels', 'read_label_png',
    'read_rgb_image', 'save_label_png', 'label_palette',
    'DEFAULT_BG_THRESHOLD', 'IGNORE_INDEX', 'ThresholdLabeler', 'best_class',
    'build_labeler', 'threshold_labels', 'check_image_sizes',
    'boundary_map', 'boundary_refine_maps', 'stencil_random_walk',
    'BoundaryWalkMaps', 'MapFunction', 'MultiScaleMaps', 'RandomWalkMaps',
    'build_map_dataset', 'infer_map_folder', 'map_folder_meta',
    'multi_scale_maps', 'prepare_map_folder', 'preprocess_image',
    'preprocess_item',
    'folder_classes', 'list_map_names', 'load_maps', 'map_path', 'read_meta',
    'save_maps', 'write_meta', 'embedding_stride', 'refine_maps'
]
