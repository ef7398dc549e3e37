from .map_io import (load_maps, map_path, read_meta, save_maps,
                     write_meta)

__all__ = ['load_maps', 'map_path', 'read_meta', 'save_maps', 'write_meta']
