"""Refuse a mask that is no label map of the data set, naming its file."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.errors import ConfigError, InputError


def mask_problem(mask: np.ndarray, num_classes: int,
                 ignore_index: int) -> str:
    """Why ``mask`` is not a ``(H, W)`` map of the labels ``0 ..
    num_classes - 1`` and ``ignore_index`` ('' when it is)."""
    if mask.ndim != 2:
        return (f'not a single-channel label PNG (shape {mask.shape}); save '
                'palette or grayscale indices')
    values = np.unique(mask)
    bad = values[((values < 0) | (values >= num_classes))
                 & (values != ignore_index)]
    if bad.size:
        return (f'values {bad[:5].tolist()} are not classes '
                f'0..{num_classes - 1} or {ignore_index}')
    return ''


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Check the mask ``LoadAnnotations`` read: a ``(H, W)`` map of the
    labels ``0 .. num_classes - 1`` and ``ignore_index``.

    Without it, a pseudo-label or ground-truth PNG saved as RGB, or with a
    value that is no class, fails deep in the loss (``Target 30 is out of
    bounds``) without the file's name, or is silently left out of mmseg's
    ``IoUMetric``. Place it right after ``LoadAnnotations``.

    Required Keys:

    - gt_seg_map (np.ndarray), seg_map_path (str)

    Args:
        num_classes (int): Classes, background included (VOC: 21). A
            config may leave it ``None``: ``mmadv.apis`` fills in the data
            set's count before building (:mod:`mmadv.engine.dataset_fit`).
        ignore_index (int): The ignored label. Defaults to 255.

    Raises:
        InputError: One line naming ``seg_map_path``.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        if num_classes is None:
            raise ConfigError(
                'CheckSegLabels: num_classes is None; set it, or build the '
                "config through mmadv.apis, which fills in the data set's")
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        problem = mask_problem(results['gt_seg_map'], self.num_classes,
                               self.ignore_index)
        if problem:
            raise InputError(f'{results.get("seg_map_path")}: {problem}')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
