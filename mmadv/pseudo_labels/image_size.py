"""The size bound of the per-image steps: map inference, the random walks
and the dense CRF take images of at most ``max_pixels`` (H x W) pixels,
checked from the images' headers before any image is processed.

Their memory grows with the image (``tools/analysis_tools/benchmark.py
peak-memory``, the README's table): map inference holds one forward pass
at the largest scale (PSA's 2: four times the image's pixels), the walks
and the CRF a few (K, H, W) arrays. The walks are linear in the pixels
(:func:`~mmadv.pseudo_labels.random_walk.stencil_random_walk`), so the
bound protects against the one photograph far larger than the rest,
which would otherwise end a run hours in, with an out-of-memory kill or
the CRF's bare ``std::bad_alloc``.
"""
from typing import Iterable, Tuple

from PIL import Image

from ..utils.domain import Domain
from ..utils.errors import InputError, MissingInputError, one_line

# the largest image in pixels (H x W) of the per-image steps
MAX_PIXELS = Domain(1, integer=True)
# its default: 2^21 = 2,097,152 pixels (1024 x 2048, a Cityscapes frame),
# 8.4x VOC's largest image (500 x 500) and 5.1x COCO's (640 x 640); at
# that size ResNet-38's map inference peaks 9.9 GiB above its weights on
# the CPU, the CRF (21 labels) at about 1.7 GiB, each walk below 0.2 GiB
DEFAULT_MAX_PIXELS = 2**21
# the peak bytes of ResNet-38's map inference (PSA's scales and flip, on
# the CPU) per image pixel, for the estimate in the refusal: 10,147 MiB
# at 1024 x 2048, 3,722 MiB at 750 x 1000, so 5,000 a pixel more
# (tools/analysis_tools/benchmark.py peak-memory --steps maps-r38)
R38_BYTES_PER_PIXEL = 5000
LARGEST_SCALE = 2  # PSA's


def image_size(path: str) -> Tuple[int, int]:
    """(height, width) of image ``path`` from its header: PIL decodes no
    pixels (and its decompression-bomb limit does not apply here).

    Raises:
        MissingInputError: No such file.
        InputError: Not an image PIL can read.
    """
    bomb_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError:
        raise MissingInputError(f'image {path} not found') from None
    except Exception as e:  # any reader error: one line
        raise InputError(f'cannot read image {path}: {one_line(e)}') from None
    finally:
        Image.MAX_IMAGE_PIXELS = bomb_limit
    return height, width


def check_image_sizes(img_paths: Iterable[str],
                      max_pixels: int,
                      setting: str = 'max_pixels') -> None:
    """Refuse the first image of ``img_paths`` above ``max_pixels``
    (:func:`image_size`: headers only, 0.04 ms a 375 x 500 JPEG), in one line
    naming it, its size, ``setting`` and the memory ResNet-38's map
    inference would need for it (:data:`R38_BYTES_PER_PIXEL`), before
    any work starts.

    Args:
        img_paths (Iterable[str]): The image files.
        max_pixels (int): The largest H x W taken (:data:`MAX_PIXELS`).
        setting (str): Its name in messages. Defaults to ``'max_pixels'``.

    Raises:
        ConfigError: ``max_pixels`` not in :data:`MAX_PIXELS`.
        InputError: An image above ``max_pixels``, or unreadable.
        MissingInputError: An image that is not there.
    """
    MAX_PIXELS.check(max_pixels, setting)
    for path in img_paths:
        height, width = image_size(path)
        pixels = height * width
        if pixels > max_pixels:
            need = pixels * R38_BYTES_PER_PIXEL
            need = f'{need / 1e9:,.0f} GB' if need >= 1e9 else \
                f'{need / 1e6:,.0f} MB'
            raise InputError(
                f'image {path} is {height} x {width} = {pixels:,} pixels, '
                f'above {setting} {max_pixels:,} (ResNet-38 map inference '
                f'at scale {LARGEST_SCALE} of it needs about {need}); resize '
                f'it or raise {setting}')
