"""Whether an image or a label PNG can be read as a data set needs it:
missing, empty, truncated or undecodable images; masks that are not
single-channel or hold values that are no class."""
import os.path as osp

import cv2
import numpy as np
from PIL import Image

from ..utils.errors import one_line
from .transforms.check_seg_labels import mask_problem

# how a JPEG file ends: one cut short lacks it (a PNG cut short does not
# decode)
_END_MARKERS = {'.jpg': b'\xff\xd9', '.jpeg': b'\xff\xd9'}


def check_image(path: str) -> str:
    """Why image ``path`` cannot be trained on ('' when it can): missing,
    empty, truncated (a JPEG without its end marker) or not decodable."""
    if not osp.isfile(path):
        return f'{path}: not found'
    with open(path, 'rb') as f:
        data = f.read()
    if not data:
        return f'{path}: empty file'
    marker = _END_MARKERS.get(osp.splitext(path)[1].lower())
    if marker and not data.rstrip(b'\x00').endswith(marker):
        return f'{path}: truncated (no end-of-image marker)'
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
        return f'{path}: does not decode as an image'
    return ''


def check_mask(path: str, num_classes: int, ignore_index: int) -> str:
    """Why label PNG ``path`` is not a mask of ``num_classes`` classes
    ('' when it is): missing, not decodable, not single-channel (an RGB
    picture instead of palette indices) or values other than
    ``0 .. num_classes - 1`` and ``ignore_index``."""
    if not osp.isfile(path):
        return f'{path}: not found'
    try:
        with Image.open(path) as png:
            mask = np.array(png)
    except Exception as e:  # truncated, not an image
        return f'{path}: does not decode ({one_line(e)})'
    problem = mask_problem(mask, num_classes, ignore_index)
    return f'{path}: {problem}' if problem else ''
