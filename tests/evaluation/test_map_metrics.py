import numpy as np
import pytest
import torch

from mmadv.evaluation.map_metrics import (ThresholdSweep, confusion_matrix,
                                          iou_summary)
from mmadv.structures import threshold_labels

# one class (aeroplane, index 0, label 1) on a 4x4 image
# yapf: disable
MAPS_1 = np.array([[[0.9, 0.6, 0.2, 0.0],
                    [0.7, 0.4, 0.1, 0.0],
                    [0.3, 0.3, 0.0, 0.0],
                    [0.0, 0.0, 0.0, 0.95]]], np.float32)
GT_1 = np.array([[1, 1, 0, 0],
                 [1, 1, 0, 0],
                 [0, 0, 0, 0],
                 [0, 0, 0, 255]], np.uint8)
# yapf: enable


def test_confusion_matrix_ignore_index():
    pred = np.array([[0, 1], [1, 255]])
    gt = np.array([[0, 1], [255, 1]])
    conf = confusion_matrix(pred, gt, num_classes=3)
    # (1, 0) is left out by the GT, (1, 1) by the prediction
    expected = np.zeros((3, 3), np.int64)
    expected[0, 0] = expected[1, 1] = 1
    np.testing.assert_array_equal(conf, expected)
    with pytest.raises(ValueError, match='outside 0..2'):
        confusion_matrix(pred, np.array([[0, 1], [3, 1]]), num_classes=3)
    with pytest.raises(ValueError, match='shape'):
        confusion_matrix(pred, gt[:1], num_classes=3)


def test_sweep_by_hand():
    sweep = ThresholdSweep([0.5, 0.25])
    sweep.update(np.array([0]), MAPS_1, GT_1)
    res = sweep.results()
    np.testing.assert_array_equal(res['thresholds'], [0.25, 0.5])
    # t = 0.25: the 6 pixels >= 0.25 of the top-left are aeroplane; the
    # 0.95 pixel is ignored by the GT. 15 scored pixels.
    # aeroplane: TP 4, FP 2, FN 0; background: TP 9, FP 0, FN 2
    # t = 0.5: 0.9, 0.6, 0.7 are aeroplane
    # aeroplane: TP 3, FP 0, FN 1; background: TP 11, FP 1, FN 0
    iou = np.array([[9 / 11, 4 / 6], [11 / 12, 3 / 4]])
    precision = np.array([[1., 4 / 6], [11 / 12, 1.]])
    recall = np.array([[9 / 11, 1.], [1., 3 / 4]])
    np.testing.assert_allclose(res['IoU'][:, :2], iou)
    np.testing.assert_allclose(res['Precision'][:, :2], precision)
    np.testing.assert_allclose(res['Recall'][:, :2], recall)
    # classes in neither GT nor prediction are NaN, out of the mean
    assert np.isnan(res['IoU'][:, 2:]).all()
    assert np.isnan(res['Precision'][:, 2:]).all()
    assert np.isnan(res['Recall'][:, 2:]).all()
    np.testing.assert_allclose(res['mIoU'], iou.mean(1))
    np.testing.assert_allclose(res['aAcc'], [13 / 15, 14 / 15])
    assert res['best_index'] == 1
    assert res['best_threshold'] == 0.5
    assert res['best_mIoU'] == pytest.approx((11 / 12 + 3 / 4) / 2)


def test_sweep_predicted_class_absent_from_gt_counts_zero():
    # the map says bird (label 3) where the GT is background only
    maps = np.zeros((1, 4, 4), np.float32)
    maps[0, 0, :2] = 0.8
    sweep = ThresholdSweep([0.5])
    sweep.update(np.array([2]), maps, np.zeros((4, 4), np.uint8))
    res = sweep.results()
    assert res['IoU'][0, 3] == 0.
    assert res['Precision'][0, 3] == 0.
    assert np.isnan(res['Recall'][0, 3])
    assert res['IoU'][0, 0] == pytest.approx(14 / 16)
    assert res['mIoU'][0] == pytest.approx(14 / 16 / 2)


def test_sweep_equals_per_threshold_route():
    rng = np.random.default_rng(0)
    thresholds = np.arange(0.05, 0.601, 0.05)
    sweep = ThresholdSweep(thresholds)
    expected = np.zeros((len(thresholds), 21, 21), np.int64)
    for num_classes in (0, 1, 2, 3, 1, 2):
        classes = rng.choice(20, num_classes, replace=False)
        # float16 values, as in the map files, hit thresholds exactly too
        maps = rng.random((num_classes, 23, 31)).round(2)
        maps = maps.astype(np.float16).astype(np.float32)
        gt = rng.integers(0, 21, (23, 31))
        gt[rng.random(gt.shape) < 0.1] = 255
        sweep.update(classes, maps, gt)
        for i, threshold in enumerate(thresholds):
            pred = threshold_labels(
                torch.from_numpy(maps), threshold,
                torch.from_numpy(classes)).numpy()
            expected[i] += confusion_matrix(pred, gt)
    np.testing.assert_array_equal(sweep.confusion, expected)
    assert sweep.num_images == 6
    res = sweep.results()
    for i in range(len(thresholds)):
        single = iou_summary(expected[i])
        np.testing.assert_array_equal(res['IoU'][i], single['IoU'])
        assert res['mIoU'][i] == single['mIoU']
    assert res['best_mIoU'] == np.nanmax(res['mIoU'])


def test_sweep_errors():
    sweep = ThresholdSweep([0.3])
    with pytest.raises(ValueError, match='no pixel'):
        sweep.results()
    with pytest.raises(ValueError, match=r'map size \(4, 4\)'):
        sweep.update(np.array([0]), MAPS_1, GT_1[:3])
    with pytest.raises(ValueError, match='num_classes'):
        sweep.update(np.array([25]), MAPS_1, GT_1)
    with pytest.raises(ValueError, match='thresholds'):
        ThresholdSweep([])
