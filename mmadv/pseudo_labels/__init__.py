from .affinity_labels import AffinityLabeler
from .boundary_walk import boundary_map, boundary_refine_maps
from .crf import DenseCRF, LabelCRF
from .image_size import check_image_sizes
from .label_folder import (LabelJob, check_label_folder, run_jobs,
                           write_affinity_labels, write_pseudo_labels)
from .labeling import ThresholdLabeler, build_labeler
from .map_folders import boundary_walk_maps, infer_maps, random_walk_maps
from .map_inference import (BoundaryWalkMaps, MapFunction, MultiScaleMaps,
                            RandomWalkMaps, build_map_dataset,
                            infer_map_folder, map_folder_meta,
                            multi_scale_maps, prepare_map_folder,
                            preprocess_image, preprocess_item)
from .random_walk import (affinity_refine_maps, embedding_stride,
                          stencil_random_walk)
from .relation_labels import RelationLabeler

__all__ = [
    'AffinityLabeler', 'DenseCRF', 'LabelCRF', 'RelationLabeler', 'LabelJob',
    'check_label_folder', 'run_jobs', 'ThresholdLabeler', 'build_labeler',
    'check_image_sizes', 'boundary_map', 'boundary_refine_maps',
    'stencil_random_walk', 'BoundaryWalkMaps', 'MapFunction',
    'MultiScaleMaps', 'RandomWalkMaps', 'build_map_dataset',
    'infer_map_folder', 'map_folder_meta', 'multi_scale_maps',
    'prepare_map_folder', 'preprocess_image', 'preprocess_item',
    'embedding_stride', 'affinity_refine_maps', 'write_pseudo_labels',
    'write_affinity_labels', 'infer_maps', 'random_walk_maps',
    'boundary_walk_maps'
]
