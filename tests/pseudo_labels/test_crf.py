import numpy as np
import pytest
from irn_reference import irn_crf_inference_label
from psa_reference import psa_crf_inference

import mmadv  # noqa: F401
from mmadv.pseudo_labels.crf import DenseCRF, LabelCRF

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


def blocks_image(seed, size=(40, 56), block=8):
    """Blocks of random colours with noise: edges for the bilateral
    kernel at every scale."""
    rng = np.random.default_rng(seed)
    h, w = size
    colours = rng.integers(0, 256, (-(-h // block), -(-w // block), 3))
    image = np.kron(colours, np.ones((block, block, 1)))[:h, :w]
    image = image + rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def smooth_probs(seed, num_labels, size=(40, 56)):
    """Class probabilities from smooth random logits (upsampled noise)."""
    rng = np.random.default_rng(seed)
    h, w = size
    coarse = rng.normal(0, 2, (num_labels, h // 8 + 1, w // 8 + 1))
    logits = np.kron(coarse, np.ones((8, 8)))[:, :h, :w]
    probs = np.exp(logits - logits.max(0))
    return (probs / probs.sum(0)).astype(np.float32)


@pytest.mark.parametrize('t,scale_factor,num_labels',
                         [(10, 1.0, 21), (3, 2.5, 4)])
def test_dense_crf_is_psas_crf_inference(t, scale_factor, num_labels):
    """PSA's tool/imutils.py crf_inference, called with pydensecrf itself:
    its kernels (3, compat 3; 80 px and 13 colour levels, compat 10) and
    its unary. IRN's kernels (50 px, 5 levels) give other probabilities
    on this image, so the test tells the two apart."""
    image, probs = blocks_image(t), smooth_probs(t, num_labels)
    expected = psa_crf_inference(image, probs, t, scale_factor, num_labels)
    crf = DenseCRF() if t == 10 else DenseCRF(t, scale_factor)  # PSA's
    refined = crf(image, probs)
    np.testing.assert_allclose(refined, expected, rtol=1e-6, atol=1e-7)
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax
    h, w = image.shape[:2]
    irn_kernels = dcrf.DenseCRF2D(w, h, num_labels)
    irn_kernels.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(
        probs)))
    irn_kernels.addPairwiseGaussian(sxy=3 / scale_factor, compat=3)
    irn_kernels.addPairwiseBilateral(sxy=50 / scale_factor, srgb=5,
                                     rgbim=image, compat=10)
    other = np.array(irn_kernels.inference(t)).reshape(num_labels, h, w)
    assert np.abs(other - expected).max() > 1e-2


@pytest.mark.parametrize('gt_prob,num_labels', [(0.7, 5), (0.9, 3)])
def test_label_crf_is_irns_crf_inference_label(gt_prob, num_labels):
    """IRN's misc/imutils.py crf_inference_label: the labelling its
    unary_from_labels(gt_prob) and kernels (3, compat 3; 50 px and 5
    colour levels, compat 10) give. Another gt_prob (0.6 for 0.7, 0.8
    for 0.9) changes the labelling of this image."""
    image = blocks_image(num_labels)
    labels = np.argmax(smooth_probs(num_labels, num_labels), axis=0)
    noise = np.random.default_rng(0).random(labels.shape) < 0.3
    labels[noise] = np.random.default_rng(1).integers(
        0, num_labels, noise.sum())
    expected = irn_crf_inference_label(image, labels, n_labels=num_labels,
                                       gt_prob=gt_prob)
    crf = LabelCRF() if gt_prob == 0.7 else LabelCRF(gt_prob=gt_prob)
    refined = crf(image, labels, num_labels)  # IRN's defaults first
    np.testing.assert_array_equal(refined, expected)
    other = irn_crf_inference_label(image, labels, n_labels=num_labels,
                                    gt_prob=gt_prob - 0.1)
    assert (other != expected).any()
