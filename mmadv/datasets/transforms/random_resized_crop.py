"""torchvision's ``RandomResizedCrop`` as an mmcv transform (EADER's
training crop; neither mmcv nor mmseg has one)."""
import math
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random window of random area and aspect ratio, resized to
    ``size``; torchvision's ``RandomResizedCrop.get_params``:

    up to 10 tries of an area ``s H W`` with ``s ~ U(scale)`` and an aspect
    ratio ``w / h = exp(U(log ratio))``, rounded, kept when it fits in the
    image, at a uniform position; else the central window of the image
    clamped to ``ratio``. Drawn with numpy's generator (the one mmengine
    seeds in each worker).

    Required Keys: img. Modified Keys: img, img_shape, gt_seg_map (if
    present, resized with ``nearest``).

    Args:
        size (int | tuple[int, int]): output (h, w); an int is square.
        scale (tuple[float, float]): range of the window's area over the
            image's. Default: (0.08, 1.0), torchvision's.
        ratio (tuple[float, float]): range of the window's w / h.
            Default: (3 / 4, 4 / 3), torchvision's.
        interpolation (str): image resize. Default: 'bilinear'.
        backend (str): mmcv resize backend, ``'cv2'`` or ``'pillow'``
            (torchvision resizes PIL images with PIL's bilinear, which
            smooths when it shrinks). Default: 'cv2'.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (3 / 4, 4 / 3),
                 interpolation: str = 'bilinear',
                 backend: str = 'cv2') -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if not (0 < scale[0] <= scale[1] <= 1):
            raise ValueError(f'scale must be 0 < low <= high <= 1, got '
                             f'{scale}')
        if not (0 < ratio[0] <= ratio[1]):
            raise ValueError(f'ratio must be 0 < low <= high, got {ratio}')
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = interpolation
        self.backend = backend

    @cache_randomness
    def window(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """``(top, left, h, w)`` of the window in an image of
        ``height x width``."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * np.random.uniform(*self.scale)
            aspect = math.exp(np.random.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return (np.random.randint(0, height - h + 1),
                        np.random.randint(0, width - w + 1), h, w)
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            w, h = int(round(height * self.ratio[1])), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, h, w = self.window(*img.shape[:2])
        out_w_h = (self.size[1], self.size[0])
        results['img'] = mmcv.imresize(
            img[top:top + h, left:left + w], out_w_h,
            interpolation=self.interpolation, backend=self.backend)
        results['img_shape'] = self.size
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = mmcv.imresize(
                results['gt_seg_map'][top:top + h, left:left + w], out_w_h,
                interpolation='nearest', backend=self.backend)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'scale={self.scale}, ratio={self.ratio}, '
                f'interpolation={self.interpolation!r}, '
                f'backend={self.backend!r})')
