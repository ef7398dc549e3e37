import numpy as np
import pytest

import mmadv  # noqa: F401
from mmadv.pseudo_labels.crf import DenseCRF

H, W, EDGE = 48, 64, 32


def two_colour_image(seed=0):
    """Blue left of column EDGE, red from it on, with a little noise."""
    rng = np.random.default_rng(seed)
    image = np.empty((H, W, 3), np.float64)
    image[:, :EDGE] = (40, 60, 200)
    image[:, EDGE:] = (200, 40, 40)
    image += rng.normal(0., 5., image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def blurred_probs(centre):
    """Probabilities of [background, object]: a wide ramp whose 0.5
    crossing is at column ``centre`` instead of the colour edge."""
    ramp = 1. / (1. + np.exp(-(np.arange(W) - centre) / 3.))
    fg = np.broadcast_to(ramp, (H, W))
    return np.stack([1. - fg, fg]).astype(np.float32)


def first_object_column(probs):
    return (np.argmax(probs, axis=0) == 1).argmax(axis=1)


@pytest.mark.parametrize('centre', [26, 38])
def test_crf_moves_the_boundary_to_the_colour_edge(centre):
    image = two_colour_image()
    probs = blurred_probs(centre)
    before = first_object_column(probs)
    assert (np.abs(before - centre) <= 1).all()
    refined = DenseCRF()(image, probs)
    after = first_object_column(refined)
    assert (np.abs(after - EDGE) < np.abs(before - EDGE)).all()
    assert (np.abs(after - EDGE) <= 1).all()
    # control: without the colour edge, the boundary goes elsewhere
    flat = np.full_like(image, 120)
    after_flat = first_object_column(DenseCRF()(flat, probs))
    assert (np.abs(after_flat - EDGE) > 5).all()


def test_crf_output_is_a_distribution():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    probs = rng.random((3, 7, 9)).astype(np.float32)
    probs /= probs.sum(0)
    refined = DenseCRF(t=5, scale_factor=0.5)(image, probs)
    assert refined.shape == (3, 7, 9)
    assert refined.dtype == np.float32
    np.testing.assert_allclose(refined.sum(0), 1., atol=1e-5)
    # no inference step: the unary's softmax, i.e. the input
    np.testing.assert_allclose(DenseCRF(t=0)(image, probs), probs, atol=1e-6)


def test_crf_rejects_bad_inputs():
    probs = np.full((2, 4, 5), 0.5, np.float32)
    with pytest.raises(ValueError, match='uint8 RGB'):
        DenseCRF()(np.zeros((4, 5, 3), np.float32), probs)
    with pytest.raises(ValueError, match=r'\(H, W\) = \(4, 6\)'):
        DenseCRF()(np.zeros((4, 6, 3), np.uint8), probs)


def test_crf_fields_are_checked():
    with pytest.raises(ValueError,
                       match=r'^crf.t must be an integer in '
                       r'\[0, 100\], got -1$'):
        DenseCRF(t=-1)
    with pytest.raises(ValueError,
                       match=r'crf.scale_factor must be a number in '
                       r'\(0, 64\]'):
        DenseCRF(scale_factor=0)


def test_refining_each_equals_refining_one_by_one():
    image = two_colour_image(2)
    probs = [blurred_probs(26), blurred_probs(38)[::-1].copy()]
    crf = DenseCRF(t=5)
    each = crf.refine_each(image, probs)
    for one, p in zip(each, probs):
        np.testing.assert_array_equal(one, crf(image, p))
    with pytest.raises(ValueError, match=r'\(H, W\) = \(48, 64\)'):
        crf.refine_each(image, [probs[0], probs[0][:, :5]])
