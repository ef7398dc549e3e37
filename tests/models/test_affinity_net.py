import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

import mmadv  # noqa: F401
from mmadv.models.losses import affinity_loss_terms
from mmadv.models.utils import pair_affinity, pair_labels

init_default_scope('mmseg')
SIZE = 32
# test_resnet levels: channels (32, 32, 48, 192, 96), strides (2, 4, 8, 8, 8)
BACKBONE = dict(type='TimmFeatureBackbone', model_name='test_resnet',
                out_indices=(2, 3, 4), output_stride=8)
PREPROCESSOR = dict(type='SegDataPreProcessor',
                    mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375],
                    bgr_to_rgb=True,
                    size=(SIZE, SIZE),
                    pad_val=0,
                    seg_pad_val=255)


def build(**kwargs):
    # every pair: PSA's rule has none on these 4 x 4 grids at radius 5
    cfg = dict(type='AffinityNet', backbone=BACKBONE, pair_rule='all')
    cfg.update(kwargs)
    return MODELS.build(cfg)


def affinity_label(shift=0):
    """Background on the left, class 3 (label 4) on the right of column
    16 + shift, unknown in the top 8 rows."""
    label = torch.zeros(1, SIZE, SIZE, dtype=torch.long)
    label[:, :, 16 + shift:] = 4
    label[:, :8] = 255
    return label


def make_batch(num_images=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(num_images):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=gen,
                                    dtype=torch.uint8))
        sample = SegDataSample(gt_sem_seg=PixelData(data=affinity_label(i)))
        sample.set_metainfo(dict(img_shape=(SIZE, SIZE),
                                 ori_shape=(SIZE, SIZE)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_embedding_shapes():
    model = build()
    assert [c.in_channels for c in model.level_convs] == [48, 192, 96]
    assert model.embed_conv.in_channels == 64 + 128 + 256
    assert model(torch.randn(2, 3, SIZE, SIZE)).shape == (2, 448, 4, 4)
    assert model(torch.randn(1, 3, 40, 48), mode='tensor').shape == (
        1, 448, 5, 6)


def test_levels_resized_to_the_first_one():
    # levels 2 (stride 8) then 1 (stride 4): resized to stride 8
    model = build(
        backbone=dict(BACKBONE, out_indices=(2, 1)),
        feature_channels=(8, 4), embed_channels=16)
    assert model(torch.randn(1, 3, SIZE, SIZE)).shape == (1, 16, 4, 4)


def test_bad_configs_and_modes():
    with pytest.raises(ValueError, match='feature_channels'):
        build(feature_channels=(64, 128))
    with pytest.raises(ValueError, match='distance'):
        build(distance='l2')
    with pytest.raises(ValueError, match='pair_rule'):
        build(pair_rule='every')
    model = build(feature_channels=(4, 4, 4), embed_channels=8)
    with pytest.raises(NotImplementedError, match='affinity_refine_maps'):
        model(torch.randn(1, 3, SIZE, SIZE), mode='predict')


@pytest.mark.parametrize('pair_rule,radius', [('all', 5), ('psa', 2)])
def test_loss_matches_independent_route(pair_rule, radius):
    # (PSA's rule at radius 5 has no pair on this 4 x 4 grid)
    model = build(distance='mean', data_preprocessor=PREPROCESSOR,
                  pair_rule=pair_rule, radius=radius).eval()
    data = model.data_preprocessor(make_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_affinity', 'aff_bg', 'aff_fg', 'aff_neg'}
    # nearest resize by 1/8 is the pixel at (8 y, 8 x)
    labels = torch.stack(
        [s.gt_sem_seg.data[0, ::8, ::8] for s in data['data_samples']])
    affinity = pair_affinity(model(data['inputs']), radius, 'mean',
                             pair_rule)
    bg, fg, neg = affinity_loss_terms(
        affinity, *pair_labels(labels, radius, rule=pair_rule))
    assert losses['aff_bg'].item() == pytest.approx(bg.item(), rel=1e-5)
    assert losses['aff_fg'].item() == pytest.approx(fg.item(), rel=1e-5)
    assert losses['aff_neg'].item() == pytest.approx(neg.item(), rel=1e-5)
    assert losses['loss_affinity'].item() == pytest.approx(
        (bg / 4 + fg / 4 + neg / 2).item(), rel=1e-5)
    assert all(0 < v.item() < 12 for v in losses.values())


def test_gradients_reach_the_embedding_layers():
    model = build(distance='mean', data_preprocessor=PREPROCESSOR)
    data = model.data_preprocessor(make_batch(), True)
    model(**data, mode='loss')['loss_affinity'].backward()
    for conv in (*model.level_convs, model.embed_conv):
        grad = conv.weight.grad
        assert grad is not None and torch.isfinite(grad).all()
        assert grad.abs().sum() > 0


@pytest.mark.parametrize('distance', ['sum', 'mean'])
def test_train_step(distance):
    model = build(distance=distance, data_preprocessor=PREPROCESSOR)
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    before = {n: p.detach().clone() for n, p in model.named_parameters()
              if n.startswith(('level_convs', 'embed_conv'))}
    log_vars = model.train_step(make_batch(), optim_wrapper)
    assert set(log_vars) == {'loss', 'loss_affinity', 'aff_bg', 'aff_fg',
                             'aff_neg'}
    assert all(torch.isfinite(v).all() for v in log_vars.values())
    # only loss_* keys are summed into the loss
    assert log_vars['loss'].item() == pytest.approx(
        log_vars['loss_affinity'].item())
    params = dict(model.named_parameters())
    assert all(torch.isfinite(params[n]).all() for n in before)
    if distance == 'mean':  # 'sum' over 448 channels: affinities start at 0
        assert any(not torch.equal(params[n], p) for n, p in before.items())


def test_train_step_on_mmseg_voc_pipeline(tiny_voc):
    # the tiny tree's masks stand in for affinity-label PNGs: same format
    # (0 background, c + 1 class c, 255 unknown)
    dataset = DATASETS.build(
        dict(type='PascalVOCDataset',
             data_root=str(tiny_voc),
             data_prefix=dict(img_path='JPEGImages',
                              seg_map_path='SegmentationClassAug'),
             ann_file='ImageSets/Segmentation/train_aug.txt',
             pipeline=[
                 dict(type='LoadImageFromFile'),
                 dict(type='LoadAnnotations'),
                 dict(type='RandomCrop', crop_size=(SIZE, SIZE)),
                 dict(type='RandomFlip', prob=0.5),
                 dict(type='PackSegInputs')
             ]))
    model = build(distance='mean', data_preprocessor=PREPROCESSOR)
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    batch = pseudo_collate([dataset[0], dataset[1]])
    log_vars = model.train_step(batch, optim_wrapper)
    assert all(torch.isfinite(v).all() for v in log_vars.values())
    assert log_vars['loss_affinity'] > 0
