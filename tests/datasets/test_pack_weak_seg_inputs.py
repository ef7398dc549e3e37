"""PackWeakSegInputs: image-level labels on the packed data sample."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import mmadv  # noqa: F401  (compat shim before mmseg.datasets)
from mmadv.datasets.transforms.pack_weak_seg_inputs import PackWeakSegInputs
from mmseg.datasets.transforms import PackSegInputs  # isort: skip


def results_dict(with_seg=False):
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    results = dict(
        img=img,
        img_path='a.jpg',
        ori_shape=(2, 3),
        img_shape=(2, 3),
        flip=True,
        flip_direction='horizontal',
        img_labels=np.array([0., 1., 0., 1.], np.float32))
    if with_seg:
        results['gt_seg_map'] = np.array([[0, 4, 255], [2, 2, 0]], np.uint8)
    return results


def test_packs_image_labels_and_meta():
    results = results_dict()
    packed = PackWeakSegInputs().transform(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8
    assert torch.equal(inputs,
                       torch.from_numpy(results['img']).permute(2, 0, 1))
    assert torch.equal(sample.gt_class_labels, torch.tensor([0., 1., 0., 1.]))
    assert sample.gt_class_labels.dtype == torch.float32
    assert sample.img_path == 'a.jpg'
    assert sample.img_shape == (2, 3)
    assert sample.flip is True
    assert sample.flip_direction == 'horizontal'
    assert 'gt_sem_seg' not in sample
    assert 'img_labels' not in sample.metainfo


def test_packs_gt_sem_seg_when_loaded():
    packed = PackWeakSegInputs().transform(results_dict(with_seg=True))
    assert torch.equal(packed['data_samples'].gt_sem_seg.data,
                       torch.tensor([[[0, 4, 255], [2, 2, 0]]]))


def test_labels_stack_into_batch():
    transform = PackWeakSegInputs()
    samples = []
    for labels in ([1., 0., 0.], [0., 1., 1.]):
        results = results_dict()
        results['img_labels'] = np.array(labels, np.float32)
        samples.append(transform.transform(results)['data_samples'])
    batch = torch.stack([s.gt_class_labels for s in samples])
    assert torch.equal(batch, torch.tensor([[1., 0., 0.], [0., 1., 1.]]))


def test_missing_labels_is_key_error():
    results = results_dict()
    del results['img_labels']
    with pytest.raises(KeyError, match=r"needs results\['img_labels'\]"):
        PackWeakSegInputs().transform(results)


def test_labels_must_be_a_vector():
    results = results_dict()
    results['img_labels'] = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r'shape \(C,\), got \(2, 2\)'):
        PackWeakSegInputs().transform(results)


def test_default_meta_keys_and_registry():
    init_default_scope('mmseg')
    transform = TRANSFORMS.build(dict(type='PackWeakSegInputs'))
    assert isinstance(transform, PackWeakSegInputs)
    assert transform.meta_keys == PackSegInputs().meta_keys
    assert {
        'img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
        'flip', 'flip_direction', 'reduce_zero_label'
    } <= set(transform.meta_keys)
