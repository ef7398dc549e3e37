import numpy as np
import pytest

import mmadv  # noqa: F401
from mmadv.pseudo_labels.affinity_labels import AffinityLabeler

# classes 2 (label 3) and 5 (label 6) on a 1x5 image
CLASSES = np.array([2, 5])
MAPS = np.array([[[0.9, 0.5, 0.10, 0.0, 0.2]],
                 [[0.1, 0.6, 0.05, 0.0, 0.1]]], np.float32)
IMAGE = np.zeros((1, 5, 3), np.uint8)


def test_without_crf_by_hand():
    # max_k A_k = 0.9, 0.6, 0.1, 0.0, 0.2
    # alpha 4:  bg = 1e-4, 0.0256, 0.656, 1, 0.410
    #   argmax = A_1, A_2, bg, bg, bg
    # alpha 32: bg = 1e-32, 1.8e-13, 0.034, 1, 7.9e-4
    #   argmax = A_1, A_2, A_1, bg, A_1
    label = AffinityLabeler(4, 32)(CLASSES, MAPS, IMAGE)
    assert label.dtype == np.uint8
    assert label.tolist() == [[3, 6, 255, 0, 255]]


def test_alphas_move_the_unknown_band():
    # both alphas 4: no unknown pixels, background where bg wins at 4
    same = AffinityLabeler(4, 4)(CLASSES, MAPS, IMAGE)
    assert same.tolist() == [[3, 6, 0, 0, 0]]
    with pytest.raises(ValueError, match='low_alpha'):
        AffinityLabeler(32, 4)


def test_no_classes_is_all_background():
    label = AffinityLabeler(4, 32)(np.zeros(0), np.zeros((0, 3, 4)),
                                   np.zeros((3, 4, 3), np.uint8))
    assert label.shape == (3, 4) and (label == 0).all()


def test_maps_must_match_classes():
    with pytest.raises(ValueError, match='maps'):
        AffinityLabeler(4, 32)(CLASSES, MAPS[:1], IMAGE)


def test_with_crf_shapes_and_values():
    rng = np.random.default_rng(0)
    height, width = 12, 16
    image = np.full((height, width, 3), 60, np.uint8)
    image[:, width // 2:] = (200, 40, 40)  # an object on the right
    maps = np.zeros((2, height, width), np.float32)
    maps[0, :, width // 2:] = 0.9
    maps[1] = rng.random((height, width)) * 0.05
    labeler = AffinityLabeler(4, 32, crf=dict())  # PSA's
    label = labeler(np.array([7, 14]), maps, image)
    assert label.shape == (height, width) and label.dtype == np.uint8
    assert set(np.unique(label)) <= {0, 8, 15, 255}
    # the confident object stays class 7, the empty left is background
    assert (label[:, -3:] == 8).all()
    assert (label[:, :3] == 0).all()


def test_settings_recorded():
    assert AffinityLabeler(0.2, 1.0, crf=dict(scale_factor=16)).settings() \
        == dict(labeler='AffinityLabeler', affinity=[0.2, 1.0],
                crf=dict(t=10, scale_factor=16))
    assert AffinityLabeler(4, 32).settings()['crf'] is None
