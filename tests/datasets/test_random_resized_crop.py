"""RandomResizedCrop: torchvision's window rule, and with the pillow
backend torchvision's pixels (EADER's training crop)."""
import math

import numpy as np
import pytest
import torchvision.transforms.functional as TF
from PIL import Image

import mmadv  # noqa: F401
from mmadv.datasets.transforms import RandomResizedCrop


def image(height=60, width=90, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (height, width, 3), dtype=np.uint8)


def test_the_output_is_torchvisions_resized_crop_of_the_window():
    transform = RandomResizedCrop(size=(32, 40), backend='pillow')
    img = image()
    mask = np.random.default_rng(1).integers(0, 5, (60, 90), dtype=np.uint8)
    np.random.seed(3)
    top, left, h, w = transform.window(60, 90)
    np.random.seed(3)
    results = transform(dict(img=img.copy(), gt_seg_map=mask.copy()))
    expected = TF.resized_crop(Image.fromarray(img), top, left, h, w,
                               [32, 40])
    np.testing.assert_array_equal(results['img'], np.asarray(expected))
    expected_mask = TF.resized_crop(
        Image.fromarray(mask), top, left, h, w, [32, 40],
        interpolation=TF.InterpolationMode.NEAREST)
    np.testing.assert_array_equal(results['gt_seg_map'],
                                  np.asarray(expected_mask))
    assert results['img_shape'] == (32, 40)


def test_windows_follow_torchvisions_rule():
    """Of 2,000 windows in a 60 x 90 image: each inside the image, with
    area and aspect within 1 pixel's rounding of the ranges, and both
    ends of each range reached (the largest window of aspect <= 4/3 in a
    3:2 image is 80 x 60)."""
    transform = RandomResizedCrop(size=8)
    np.random.seed(0)
    areas, aspects = [], []
    for _ in range(2000):
        top, left, h, w = transform.window(60, 90)
        assert 0 <= top and top + h <= 60 and 0 <= left and left + w <= 90
        areas.append(h * w / (60 * 90))
        aspects.append(w / h)
    areas, aspects = np.array(areas), np.array(aspects)
    assert areas.min() == pytest.approx(0.08, abs=0.02)
    assert areas.max() == pytest.approx(80 * 60 / (60 * 90), abs=0.02)
    # rounding h and w moves the aspect by at most ~1 / h either way
    assert aspects.min() > 3 / 4 * (1 - 1 / 15)
    assert aspects.max() < 4 / 3 * (1 + 1 / 15)
    assert np.log(aspects).min() < math.log(0.8)
    assert np.log(aspects).max() > math.log(1.25)


def test_the_fallback_is_the_central_window_clamped_to_ratio():
    # scale 1 needs the whole image, whose 4:1 aspect is outside the
    # ratio range: every try fails, the central 4:3 window is taken
    transform = RandomResizedCrop(size=8, scale=(1.0, 1.0))
    assert transform.window(30, 120) == (0, 40, 30, 40)
    assert transform.window(120, 30) == (40, 0, 40, 30)


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError, match='scale'):
        RandomResizedCrop(size=8, scale=(0.5, 0.2))
    with pytest.raises(ValueError, match='ratio'):
        RandomResizedCrop(size=8, ratio=(0., 1.))
