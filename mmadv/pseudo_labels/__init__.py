from .affinity_labels import AffinityLabeler
from .boundary_walk import boundary_map, boundary_refine_maps
from .crf import DenseCRF, LabelCRF
from .image_size import check_image_sizes
from .label_folder import LabelJob, check_label_folder, run_jobs
from .labeling import ThresholdLabeler, build_labeler
from .map_inference import (BoundaryWalkMaps, MapFunction, MultiScaleMaps,
                            RandomWalkMaps, build_map_dataset,
                            infer_map_folder, map_folder_meta,
                            multi_scale_maps, prepare_map_folder,
                            preprocess_image, preprocess_item)
from .random_walk import embedding_stride, refine_maps, stencil_random_walk
from .relation_labels import RelationLabeler

__all__ = [
    'AffinityLabeler', 'DenseCRF', 'LabelCRF', 'RelationLabeler', 'LabelJob',
    'check_label_folder', 'run_jobs', 'ThresholdLabeler', 'build_labeler',
    'check_image_sizes', 'boundary_map', 'boundary_refine_maps',
    'stencil_random_walk', 'BoundaryWalkMaps', 'MapFunction',
    'MultiScaleMaps', 'RandomWalkMaps', 'build_map_dataset',
    'infer_map_folder', 'map_folder_meta', 'multi_scale_maps',
    'prepare_map_folder', 'preprocess_image', 'preprocess_item',
    'embedding_stride', 'refine_maps'
]
