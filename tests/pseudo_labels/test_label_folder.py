"""One image's label job: written, kept on resume, scored, and its input
errors; the folder check that refuses other settings."""
import json

import cv2
import numpy as np
import pytest
from test_labeling import CLASSES, MAPS

import mmadv  # noqa: F401
from mmadv.pseudo_labels import (LabelJob, ThresholdLabeler,
                                 check_label_folder, map_path, read_label_png,
                                 save_maps)


def test_job_writes_and_scores(tmp_path):
    for folder in ('maps', 'img', 'out', 'gt'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    cv2.imwrite(str(tmp_path / 'img' / 'x.jpg'), np.zeros((2, 4, 3), np.uint8))
    gt = np.array([[0, 5, 5, 5], [255, 12, 0, 0]], np.uint8)
    cv2.imwrite(str(tmp_path / 'gt' / 'x.png'), gt)
    job = LabelJob(
        str(tmp_path / 'maps'),
        str(tmp_path / 'img'),
        str(tmp_path / 'out'),
        ThresholdLabeler(0.3),
        gt_dir=str(tmp_path / 'gt'))
    result = job('x')
    label = np.array([[0, 0, 12, 5], [0, 12, 5, 12]])
    np.testing.assert_array_equal(
        read_label_png(str(tmp_path / 'out' / 'x.png')), label)
    assert result['written'] and result['num_valid'] == 7
    assert result['num_labelled'] == 7
    conf = result['confusion']
    assert conf.sum() == 7
    assert conf[0, 0] == 1 and conf[5, 0] == 1 and conf[0, 5] == 1
    assert conf[12, 12] == 1 and conf[5, 12] == 1 and conf[0, 12] == 1
    assert conf[5, 5] == 1
    again = job('x')
    assert not again['written']
    np.testing.assert_array_equal(again['confusion'], conf)


def test_job_input_errors(tmp_path):
    for folder in ('maps', 'img', 'out'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    job = LabelJob(
        str(tmp_path / 'maps'), str(tmp_path / 'img'), str(tmp_path / 'out'),
        ThresholdLabeler(0.3))
    img_path = tmp_path / 'img' / 'x.jpg'
    with pytest.raises(FileNotFoundError, match=f'image {img_path} not'):
        job('x')
    img_path.write_bytes(b'not a jpeg')
    with pytest.raises(ValueError, match=f'cannot decode image {img_path}'):
        job('x')
    cv2.imwrite(str(img_path), np.zeros((3, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r'map size \(2, 4\) .* \(3, 4\)'):
        job('x')
    with pytest.raises(FileNotFoundError, match=r'y\.npz'):
        job('y')
    assert list((tmp_path / 'out').iterdir()) == []


def test_folder_of_other_settings_is_refused(tmp_path):
    settings = dict(map_dir='/maps', split='train_aug', bg_threshold=0.3)
    check_label_folder(str(tmp_path), settings)  # no meta.json yet
    (tmp_path / 'meta.json').write_text(
        json.dumps(
            dict(settings, setting_keys=sorted(settings), num_images=3)))
    check_label_folder(str(tmp_path), settings)  # the same: resume
    with pytest.raises(ValueError, match=r'bg_threshold: 0.3 now 0.5'):
        check_label_folder(str(tmp_path), dict(settings, bg_threshold=0.5))
    # a recorded setting the new labeler does not have
    with pytest.raises(ValueError, match=r'bg_threshold: 0.3 now None'):
        check_label_folder(
            str(tmp_path),
            dict(map_dir='/maps', split='train_aug', affinity=[4, 32]))
