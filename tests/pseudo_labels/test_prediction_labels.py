"""Self-training labels: a segmentation network's predictions saved
(:mod:`mmadv.datasets.prediction_io`) and labelled by their argmax
(:class:`~mmadv.pseudo_labels.labeling.ArgmaxLabeler`), checked against
labels made by hand."""
import numpy as np
import pytest
from conftest import VOC_CLASSES, VOC_PALETTE, make_tiny_voc

from mmadv.datasets import read_label_png
from mmadv.datasets.map_io import write_meta
from mmadv.datasets.prediction_io import (load_prediction, prediction_path,
                                          save_prediction)
from mmadv.pseudo_labels import write_pseudo_labels
from mmadv.utils.errors import ConfigError, InputError

C = 21


def softmax(logits):
    e = np.exp(logits - logits.max(0))
    return e / e.sum(0)


def test_a_prediction_keeps_every_label_that_wins_a_pixel(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1, (C, 6, 7))
    logits[[3, 7]] += 4  # two labels win almost everywhere
    probs = softmax(logits).astype(np.float32)
    path = prediction_path(str(tmp_path), 'a')
    save_prediction(path, probs)
    labels, saved = load_prediction(path, C)
    winners = np.unique(probs.argmax(0))
    np.testing.assert_array_equal(labels, winners)
    assert 3 in labels and 7 in labels and len(labels) < C
    np.testing.assert_allclose(saved, probs[winners], atol=1e-3)
    np.testing.assert_array_equal(labels[saved.argmax(0)], probs.argmax(0))


def test_bad_prediction_files_are_refused(tmp_path):
    path = str(tmp_path / 'a.npz')
    np.savez(path, labels=np.array([0, 0]), probs=np.zeros((2, 3, 3)))
    with pytest.raises(InputError, match='a.npz: labels must be distinct'):
        load_prediction(path, C)
    np.savez(path, labels=np.array([0, 21]), probs=np.zeros((2, 3, 3)))
    with pytest.raises(InputError, match='in 0..20'):
        load_prediction(path, C)
    np.savez(path, labels=np.array([0]), probs=np.full((1, 3, 3), 2.))
    with pytest.raises(InputError, match=r'probs must be \(K, H, W\)'):
        load_prediction(path, C)
    (tmp_path / 'b.npz').write_bytes(b'PK\x03\x04 cut')
    with pytest.raises(InputError, match='b.npz is not a prediction file'):
        load_prediction(str(tmp_path / 'b.npz'), C)


@pytest.fixture
def prediction_folder(tmp_path):
    """A tiny VOC tree and a prediction folder of its train split: random
    probabilities, some pixels confident, some not."""
    root = make_tiny_voc(tmp_path / 'voc', num_images=4)
    names = (root / 'ImageSets/Segmentation/train_aug.txt').read_text(
    ).split()
    folder = tmp_path / 'pred'
    folder.mkdir()
    rng = np.random.default_rng(1)
    probs = {}
    for name in names:
        logits = rng.normal(0, 1, (C, 48, 64))
        logits[0] += 2.5 * rng.random((48, 64))  # background: sometimes sure
        probs[name] = softmax(logits).astype(np.float32)
        save_prediction(prediction_path(str(folder), name), probs[name])
    write_meta(str(folder), format='predictions', split='train_aug',
               ann_file=str(root / 'ImageSets/Segmentation/train_aug.txt'),
               num_images=len(names), classes=list(VOC_CLASSES),
               palette=[list(c) for c in VOC_PALETTE])
    return root, folder, probs


def test_argmax_labels_with_an_uncertain_band(prediction_folder, tmp_path):
    root, folder, probs = prediction_folder
    out = tmp_path / 'labels'
    band = (0.2, 0.5)
    summary = write_pseudo_labels(
        str(folder), str(root / 'JPEGImages'), str(out), 'train_aug',
        dict(type='ArgmaxLabeler', uncertain=band))
    assert summary['written'] == len(probs)
    ignored = labelled = 0
    for name, p in probs.items():
        expected = p.argmax(0).astype(np.uint8)
        top = p.max(0)
        uncertain = (top >= band[0]) & (top < band[1])
        expected[uncertain] = 255
        ignored += uncertain.sum()
        labelled += (~uncertain).sum()
        label = read_label_png(str(out / f'{name}.png'))
        # float16 storage may flip a near tie: allow a handful of pixels
        assert (label != expected).sum() <= 3
    assert ignored > 0 and labelled > 0


def test_a_maps_labeler_refuses_a_prediction_folder(prediction_folder,
                                                    tmp_path):
    root, folder, _ = prediction_folder
    with pytest.raises(ConfigError, match='holds predictions, and '
                       'ThresholdLabeler labels maps'):
        write_pseudo_labels(str(folder), str(root / 'JPEGImages'),
                            str(tmp_path / 'a'), 'train_aug',
                            dict(type='ThresholdLabeler'))


def test_the_uncertain_band_holds_low_and_not_high():
    from mmadv.pseudo_labels.labeling import ArgmaxLabeler
    labels = np.array([0, 3])
    # top probabilities 0.2 (= low), 0.5 (= high), 0.35, 0.8
    probs = np.array([[[0.2, 0.5, 0.35, 0.8]],
                      [[0.15, 0.25, 0.3, 0.1]]], np.float32)
    np.testing.assert_array_equal(
        ArgmaxLabeler(uncertain=(0.2, 0.5))(labels, probs),
        [[255, 0, 255, 0]])
    probs[[0, 1]] = probs[[1, 0]]  # label 3 wins
    np.testing.assert_array_equal(ArgmaxLabeler()(labels, probs),
                                  [[3, 3, 3, 3]])
