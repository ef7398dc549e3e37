from .map_inference import (MultiScaleMaps, build_map_dataset,
                            build_trained_model, infer_map_folder,
                            load_checkpoint_strict, map_folder_meta,
                            multi_scale_maps, prepare_map_folder,
                            preprocess_image, preprocess_item,
                            shard_from_env)
from .map_io import load_maps, map_path, read_meta, save_maps, write_meta

__all__ = [
    'load_maps', 'map_path', 'read_meta', 'save_maps', 'write_meta',
    'MultiScaleMaps', 'build_map_dataset', 'build_trained_model',
    'infer_map_folder', 'load_checkpoint_strict', 'map_folder_meta',
    'multi_scale_maps',
    'prepare_map_folder', 'preprocess_image', 'preprocess_item',
    'shard_from_env'
]
