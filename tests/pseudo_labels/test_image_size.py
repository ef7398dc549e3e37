"""The size bound of the per-image steps, checked from image headers."""
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from mmadv.pseudo_labels.image_size import (R38_BYTES_PER_PIXEL,
                                            check_image_sizes, image_size)
from mmadv.utils.errors import ConfigError, InputError, MissingInputError


def png_header(path, height, width):
    """A PNG of its header alone (IHDR, IEND, no pixel data): a size and
    nothing to decode."""

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
                     chunk(b'IEND', b''))
    return path


def small_jpeg(path, height=30, width=50):
    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))
    return path


def test_sizes_come_from_the_headers(tmp_path):
    assert image_size(str(small_jpeg(tmp_path / 'a.jpg'))) == (30, 50)
    # no pixel is decoded: a header without pixel data gives its size, also
    # above PIL's decompression-bomb limit, which stays in force elsewhere
    huge = png_header(tmp_path / 'huge.png', 20000, 10000)
    assert image_size(str(huge)) == (20000, 10000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(huge)


def test_an_image_above_the_bound_is_refused_in_one_line(tmp_path):
    small = small_jpeg(tmp_path / 'small.jpg')
    photo = png_header(tmp_path / 'photo.png', 3000, 4000)
    check_image_sizes([str(small)], 30 * 50)  # at the bound: taken
    need = 12_000_000 * R38_BYTES_PER_PIXEL / 1e9
    with pytest.raises(InputError) as error:
        check_image_sizes([str(small), str(photo)], 2048 * 2048)
    assert str(error.value) == (
        f'image {photo} is 3000 x 4000 = 12,000,000 pixels, above '
        f'max_pixels 4,194,304 (ResNet-38 map inference at scale 2 of it '
        f'needs about {need:.0f} GB); resize it or raise max_pixels')
    with pytest.raises(InputError, match=r'^image \S+small.jpg is 30 x 50 = '
                       r'1,500 pixels, above wsss_pipeline.max_pixels 1,499 '
                       r'\(.* about \d+ MB\); resize it or raise '
                       r'wsss_pipeline.max_pixels$'):
        check_image_sizes([str(small)], 1499, 'wsss_pipeline.max_pixels')


def test_unreadable_images_and_bad_bounds(tmp_path):
    with pytest.raises(MissingInputError,
                       match=r'^image \S+none.jpg not found$'):
        check_image_sizes([str(tmp_path / 'none.jpg')], 100)
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'not a jpeg')
    with pytest.raises(InputError, match=r'^cannot read image \S+bad.jpg: '):
        check_image_sizes([str(bad)], 100)
    for value in (0, 2.5, True):
        with pytest.raises(ConfigError, match=r'^max_pixels must be a '
                           r'finite integer >= 1, got '):
            check_image_sizes([], value)
