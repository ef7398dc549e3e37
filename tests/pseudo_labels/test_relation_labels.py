"""IRN's relation labels (step/cam_to_ir_label.py): the confident
foreground and background rule on hand-made maps, and the whole labeler
with the CRF against a transcription of IRN's cam_to_ir_label and
crf_inference_label."""
import numpy as np
import pytest
from irn_reference import irn_crf_inference_label

from mmadv.pseudo_labels import RelationLabeler, build_labeler
from mmadv.utils.errors import ConfigError


def test_confident_regions_by_hand():
    # two maps over a 1 x 6 strip: 0.9 / 0.2 / 0.1 / 0.02 / 0.4 (class 7)
    maps = np.array([[[0.9, 0.2, 0.1, 0.02, 0.0, 0.3]],
                     [[0.0, 0.0, 0.0, 0.0, 0.4, 0.3]]], np.float32)
    image = np.zeros((1, 6, 3), np.uint8)
    label = RelationLabeler(crf=None)(np.array([2, 7]), maps, image)
    # 0.9: class 2 (3); 0.2, 0.1: below 0.30, above 0.05: unknown; 0.02:
    # background; 0.4: class 7 (8); a tie of 0.3 with the background
    # plane is background in the foreground pass, class 2 in the other
    assert label.tolist() == [[3, 255, 255, 0, 8, 255]]
    assert label.dtype == np.uint8
    empty = RelationLabeler(crf=None)(np.zeros(0), np.zeros((0, 2, 2)),
                                      np.zeros((2, 2, 3), np.uint8))
    assert empty.tolist() == [[0, 0], [0, 0]]


def irn_ir_label(img, cams, keys, fg_thres=0.30, bg_thres=0.05):
    """IRN's step/cam_to_ir_label.py _work and misc/imutils.py
    crf_inference_label (t=10, gt_prob=0.7)."""
    keys = np.pad(keys + 1, (1, 0), mode='constant')
    fg_conf_cam = np.pad(cams, ((1, 0), (0, 0), (0, 0)), mode='constant',
                         constant_values=fg_thres)
    fg_conf_cam = np.argmax(fg_conf_cam, axis=0)
    pred = irn_crf_inference_label(img, fg_conf_cam,
                                   n_labels=keys.shape[0])
    fg_conf = keys[pred]
    bg_conf_cam = np.pad(cams, ((1, 0), (0, 0), (0, 0)), mode='constant',
                         constant_values=bg_thres)
    bg_conf_cam = np.argmax(bg_conf_cam, axis=0)
    pred = irn_crf_inference_label(img, bg_conf_cam,
                                   n_labels=keys.shape[0])
    bg_conf = keys[pred]
    conf = fg_conf.copy()
    conf[fg_conf == 0] = 255
    conf[bg_conf + fg_conf == 0] = 0
    return conf.astype(np.uint8)


@pytest.mark.parametrize('seed', [0, 1])
def test_equals_irns_cam_to_ir_label(seed):
    rng = np.random.default_rng(seed)
    h, w = 24, 30
    image = rng.integers(0, 255, (h, w, 3), np.uint8)
    image[6:18, 8:20] = (200, 40, 40)  # an object of another colour
    yy, xx = np.mgrid[:h, :w]
    maps = np.stack([
        np.exp(-((yy - 12) ** 2 + (xx - 14) ** 2) / 40.),
        np.exp(-((yy - 4) ** 2 + (xx - 26) ** 2) / 15.) * 0.6,
    ]).astype(np.float32)
    classes = np.array([4, 11])
    labeler = build_labeler(dict(type='RelationLabeler'))
    ours = labeler(classes, maps, image)
    np.testing.assert_array_equal(ours, irn_ir_label(image, maps, classes))
    assert set(np.unique(ours).tolist()) <= {0, 5, 12, 255}
    assert labeler.settings() == dict(
        labeler='RelationLabeler', conf_thres=[0.30, 0.05],
        crf=dict(t=10, gt_prob=0.7, scale_factor=1.0))


def test_bad_thresholds_are_refused():
    with pytest.raises(ConfigError, match='conf_bg_thres <= conf_fg_thres'):
        RelationLabeler(conf_fg_thres=0.05, conf_bg_thres=0.3)
    with pytest.raises(ConfigError, match='gt_prob'):
        RelationLabeler(crf=dict(gt_prob=1.5))
