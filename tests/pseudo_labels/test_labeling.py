"""The labelling rule and the threshold labeler: values by hand, the rule
as the one source of the labels, and the CRF and band options."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

import mmadv  # noqa: F401
from mmadv.evaluation.threshold_rules import (OtsuThreshold,
                                              build_threshold_rule)
from mmadv.pseudo_labels import ThresholdLabeler, build_labeler
from mmadv.structures import best_class, threshold_labels

# classes 4 (bottle, label 5) and 11 (dog, label 12)
CLASSES = np.array([4, 11])
# yapf: disable
MAPS = np.array([[[0.10, 0.20, 0.30, 0.90],
                  [0.05, 0.45, 0.35, 0.00]],
                 [[0.15, 0.10, 0.40, 0.20],
                  [0.00, 0.50, 0.30, 0.60]]], np.float32)
# yapf: enable


def rule(classes, maps, threshold):
    """:func:`threshold_labels` on numpy inputs."""
    return threshold_labels(
        torch.as_tensor(maps), threshold,
        torch.as_tensor(np.asarray(classes, np.int64))).numpy()


def random_case(seed, num_classes=2, size=(9, 11)):
    rng = np.random.default_rng(seed)
    classes = rng.choice(20, num_classes, replace=False)
    maps = rng.random((num_classes, ) + size).astype(np.float32)
    image = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
    return classes, maps, image


def test_rule_exact():
    # classes 14 (person, label 15) and 2 (bird, label 3), unsorted
    classes = np.array([14, 2])
    maps = np.array([[[0.8, 0.1], [0.3, 0.5]], [[0.2, 0.7], [0.4, 0.5]]],
                    np.float32)
    np.testing.assert_array_equal(
        rule(classes, maps, 0.45), [[15, 3], [0, 15]])
    # highest map 0.4 at (1, 0) is bird; the tie at (1, 1) goes to the
    # first map; a map equal to the threshold is foreground
    np.testing.assert_array_equal(
        rule(classes, maps, 0.4), [[15, 3], [3, 15]])
    np.testing.assert_array_equal(rule(classes, maps, 0.9), [[0, 0], [0, 0]])
    out = threshold_labels(torch.zeros(0, 2, 3), 0.1,
                           torch.zeros(0, dtype=torch.long))
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 3)))


def test_rule_without_classes_is_class_index_and_batched():
    maps = torch.tensor([[[[0.8, 0.1]], [[0.2, 0.7]]],
                         [[[0.1, 0.1]], [[0.3, 0.2]]]])  # (2, 2, 1, 2)
    np.testing.assert_array_equal(
        threshold_labels(maps, 0.25).numpy(), [[[1, 2]], [[2, 0]]])
    score, label = best_class(maps)
    assert score.dtype == torch.float64
    np.testing.assert_allclose(score.numpy(), [[[0.8, 0.7]], [[0.3, 0.2]]],
                               rtol=1e-6)


def test_rule_compares_in_float64():
    # float32(0.7) < 0.7: a map value of exactly float32(0.7) is background
    # (float64 comparison), as the sweep's searchsorted decides
    value = np.float32(0.7)
    maps = np.full((1, 1, 1), value, np.float32)
    assert rule([0], maps, 0.7)[0, 0] == 0
    assert rule([0], maps, float(value))[0, 0] == 1


def test_rule_rejects_bad_shapes():
    with pytest.raises(ValueError, match='K = 2'):
        rule([0, 1], np.zeros((1, 4, 4)), 0.5)
    with pytest.raises(ValueError, match='0..253'):
        rule([254], np.zeros((1, 4, 4)), 0.5)


def test_default_is_the_rule():
    classes, maps, _ = random_case(0, 3)
    for threshold in (0.2, 0.5, 0.8):
        label = ThresholdLabeler(threshold)(classes, maps)
        assert label.dtype == np.uint8
        np.testing.assert_array_equal(label, rule(classes, maps, threshold))


def test_uncertain_band_by_hand():
    """The band ignores its pixels; the chosen threshold labels the rest,
    also where it lies outside the band (it was replaced by the band's
    top, silently, while the pipeline's table reported the chosen
    one)."""
    # highest maps: [[.15 .20 .40 .90], [.05 .50 .35 .60]]
    label = ThresholdLabeler(0.3, uncertain=(0.2, 0.45))(CLASSES, MAPS)
    np.testing.assert_array_equal(label, [[0, 255, 255, 5], [0, 12, 255, 12]])
    assert label.dtype == np.uint8
    # the threshold above the band: .50 is background
    np.testing.assert_array_equal(
        ThresholdLabeler(0.55, uncertain=(0.2, 0.45))(CLASSES, MAPS),
        [[0, 255, 255, 5], [0, 0, 255, 12]])
    # an empty band is plain thresholding
    np.testing.assert_array_equal(
        ThresholdLabeler(0.99, uncertain=(0.4, 0.4))(CLASSES, MAPS),
        rule(CLASSES, MAPS, 0.99))
    with pytest.raises(ValueError, match='low <= high'):
        ThresholdLabeler(0.3, uncertain=(0.5, 0.2))


def test_crf_labels_stay_in_the_allowed_set():
    classes, maps, image = random_case(1, 2, (24, 32))
    label = ThresholdLabeler(0.3, crf=dict())(classes, maps, image)
    assert label.shape == (24, 32)
    assert label.dtype == np.uint8
    assert set(np.unique(label)) <= {0, *(classes + 1)}
    banded = ThresholdLabeler(
        0.3, uncertain=(0.4, 0.6), crf=dict())(classes, maps, image)
    assert set(np.unique(banded)) <= {0, 255, *(classes + 1)}
    band = (maps.max(0) >= 0.4) & (maps.max(0) < 0.6)
    assert band.any() and not band.all()
    assert (banded[band] == 255).all()
    np.testing.assert_array_equal(banded[~band], label[~band])


def test_crf_starts_from_the_thresholded_label():
    classes, maps, image = random_case(2, 3)
    maps = maps.round(1)  # ties between maps and with the threshold
    for threshold in (0.3, 0.5):
        np.testing.assert_array_equal(
            ThresholdLabeler(threshold, crf=dict(t=0))(classes, maps, image),
            rule(classes, maps, threshold))


def test_no_class_is_background():
    maps = np.zeros((0, 3, 4), np.float32)
    image = np.zeros((3, 4, 3), np.uint8)
    for crf in (None, dict()):
        label = ThresholdLabeler(0.3, crf=crf)([], maps, image)
        np.testing.assert_array_equal(label, np.zeros((3, 4)))
    with pytest.raises(ValueError, match='image'):
        ThresholdLabeler(0.3, crf=dict())(CLASSES, MAPS)


def test_built_from_config_and_settings_recorded():
    labeler = build_labeler(
        dict(type='ThresholdLabeler', bg_threshold=0.3, uncertain=[0.2, 0.4],
             crf=dict(scale_factor=2)))
    assert isinstance(labeler, ThresholdLabeler)
    assert labeler.settings() == dict(
        labeler='ThresholdLabeler', bg_threshold=0.3, uncertain=[0.2, 0.4],
        crf=dict(t=10, scale_factor=2))
    with pytest.raises(ValueError,
                       match=r'crf.scale_factor must be a number in '
                       r'\(0, 64\]'):
        ThresholdLabeler(crf=dict(scale_factor=0))
    with pytest.raises(ValueError, match=r"^bg_threshold must be a number in "
                       r"\[0, 1\], got '0.3'$"):
        ThresholdLabeler('0.3')


def test_labelers_and_rules_are_built_whatever_the_default_scope():
    """Another default scope set (e.g. by a Runner of mmengine's): the
    labelers and threshold rules still come from mmseg's registry."""
    with DefaultScope.overwrite_default_scope('mmengine'):
        assert isinstance(build_labeler(dict(type='ThresholdLabeler')),
                          ThresholdLabeler)
        assert isinstance(build_threshold_rule(dict(type='OtsuThreshold')),
                          OtsuThreshold)
