"""IRNet's boundary branch: the boundary map's shape, the loss of a batch
against the affinities and pair labels computed by hand, IRN's edge loss
formula, a training step that lowers it, and the frozen backbone."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from test_affinity_net import PREPROCESSOR, SIZE, make_batch

import mmadv  # noqa: F401
from mmadv.models.utils import boundary_affinity, pair_labels
from mmadv.pseudo_labels import boundary_map

init_default_scope('mmseg')
# test_resnet levels: channels (32, 32, 48, 192, 96), strides (2, 4, 8, 8, 8)
BACKBONE = dict(type='TimmFeatureBackbone', model_name='test_resnet',
                out_indices=(0, 1, 2, 3, 4), output_stride=8)


def build(**kwargs):
    cfg = dict(type='IRNet', backbone=BACKBONE, radius=4,
               data_preprocessor=PREPROCESSOR)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def irn_edge_loss(aff, bg, fg, neg):
    """train_irn.py and AffinityDisplacementLoss: the edge terms."""
    pos_aff_loss = -torch.log(aff + 1e-5)
    neg_aff_loss = -torch.log(1. + 1e-5 - aff)
    bg_loss = torch.sum(bg * pos_aff_loss) / (torch.sum(bg) + 1e-5)
    fg_loss = torch.sum(fg * pos_aff_loss) / (torch.sum(fg) + 1e-5)
    neg_loss = torch.sum(neg * neg_aff_loss) / (torch.sum(neg) + 1e-5)
    return (bg_loss / 2 + fg_loss / 2 + neg_loss) / 2


def test_boundary_map_at_stride_4():
    model = build().eval()
    assert [c[0].in_channels for c in model.level_convs] == \
        [32, 32, 48, 192, 96]
    assert model.boundary_conv.in_channels == 5 * 32
    with torch.no_grad():
        boundary = model(torch.randn(2, 3, SIZE, SIZE))
    assert boundary.shape == (2, SIZE // 4, SIZE // 4)
    assert ((boundary > 0) & (boundary < 1)).all()


# IRN's layout: strides (2, 4, 8, 16, 16); IRN has no stride-2 level
IRN_LIKE = dict(BACKBONE, output_stride=16)


@torch.no_grad()
def irn_net_edge(model, x):
    """The edge branch of IRN's ``Net.forward`` (``net/resnet50_irn.py``),
    transcribed with the weights of ``model``: ``fc_edge3`` with
    ``nn.Upsample(scale_factor=2)``, ``fc_edge4`` and ``fc_edge5`` with
    ``scale_factor=4``, each cropped to ``edge2``'s size, then
    ``fc_edge6``. The stride-2 stem (timm's, not IRN's) is resized to
    ``edge2``'s size, as the model documents."""
    x0, x1, x2, x3, x4 = model.backbone(x)
    up = [nn.Sequential(conv, nn.Upsample(scale_factor=factor,
                                          mode='bilinear',
                                          align_corners=False), nn.ReLU())
          for conv, factor in zip(model.level_convs[2:], (2, 4, 4))]
    edge2 = F.relu(model.level_convs[1](x1))
    edge1 = F.relu(F.interpolate(model.level_convs[0](x0),
                                 size=edge2.shape[-2:], mode='bilinear',
                                 align_corners=False))
    edge3 = up[0](x2)[..., :edge2.size(2), :edge2.size(3)]
    edge4 = up[1](x3)[..., :edge2.size(2), :edge2.size(3)]
    edge5 = up[2](x4)[..., :edge2.size(2), :edge2.size(3)]
    return model.boundary_conv(
        torch.cat([edge1, edge2, edge3, edge4, edge5], dim=1))[:, 0]


@torch.no_grad()
def irn_edge_displacement(model, image, crop_size):
    """IRN's ``EdgeDisplacement.forward`` (the version with
    ``crop_size``), transcribed: the image and its flip padded to the
    crop size, :func:`irn_net_edge`, the logits cropped to the feature
    size and averaged with the flip's."""
    x = torch.stack([image, image.flip(-1)])
    feat_size = (x.size(2) - 1) // 4 + 1, (x.size(3) - 1) // 4 + 1
    x = F.pad(x, [0, crop_size - x.size(3), 0, crop_size - x.size(2)])
    edge_out = irn_net_edge(model, x)[..., :feat_size[0], :feat_size[1]]
    return torch.sigmoid(edge_out[0] / 2 + edge_out[1].flip(-1) / 2)


def irn_like(seed):
    torch.manual_seed(seed)
    model = build(backbone=IRN_LIKE).eval()
    for conv in model.level_convs:  # GroupNorm's affine away from 1, 0
        nn.init.normal_(conv[1].weight)
        nn.init.normal_(conv[1].bias)
    return model


@pytest.mark.parametrize('height,width', [(37, 45), (50, 61), (48, 64)])
def test_boundary_logits_are_irns_net(height, width):
    """On inputs whose sides are not multiples of 16 too, where a resize of
    the stride-8 and stride-16 levels to B's size puts them up to 12 px
    off IRN's."""
    model = irn_like(height)
    x = torch.randn(2, 3, height, width)
    with torch.no_grad():
        logits = model.boundary_logits(x)
    torch.testing.assert_close(logits, irn_net_edge(model, x))


@pytest.mark.parametrize('height,width', [(37, 45), (50, 61), (48, 64)])
def test_boundary_map_is_irns_edge_displacement(height, width):
    model = irn_like(height)
    image = torch.randn(3, height, width)
    boundary = boundary_map(model, image, 4, pad_size=64)
    assert boundary.shape == (-(-height // 4), -(-width // 4))
    torch.testing.assert_close(boundary,
                               irn_edge_displacement(model, image, 64))


def test_boundary_map_of_an_image_pads_and_averages_the_flip():
    """boundary_map with ``pad_size`` 0: zero padding at the bottom and
    right to a multiple of the coarsest stride (8), (ceil(H / 4),
    ceil(W / 4)) cells, the flipped image's logits flipped back and
    averaged before the sigmoid."""
    model = build().eval()
    image = torch.randn(3, 26, 23)
    with torch.no_grad():
        padded = F.pad(torch.stack([image, image.flip(-1)]), (0, 1, 0, 6))
        logits = model.boundary_logits(padded)[..., :7, :6]
        alone = model(padded[:1], mode='tensor')[0, :7, :6]
    boundary = boundary_map(model, image, 4, pad_size=0)
    assert boundary.shape == (7, 6)
    torch.testing.assert_close(
        boundary, torch.sigmoid((logits[0] + logits[1].flip(-1)) / 2))
    torch.testing.assert_close(
        boundary_map(model, image, 4, flip=False, pad_size=0), alone)
    # with the flip, B of the flipped image is B flipped (W a multiple of 4)
    image = torch.randn(3, 26, 24)
    torch.testing.assert_close(boundary_map(model, image.flip(-1), 4),
                               boundary_map(model, image, 4).flip(-1))
    with pytest.raises(ValueError, match='does not have stride 8'):
        boundary_map(model, image, 8)


def test_loss_equals_irns_on_the_same_pairs():
    torch.manual_seed(0)
    model = build().train()
    data = model.data_preprocessor(make_batch(), True)
    losses = model(**data, mode='loss')
    boundary = torch.sigmoid(model.boundary_logits(data['inputs']))
    # the labels at stride 4 by hand: label pixel (4 y, 4 x)
    labels = torch.stack([s.gt_sem_seg.data[0, ::4, ::4]
                          for s in data['data_samples']]).long()
    bg, fg, neg = pair_labels(labels, 4, rule='psa')
    assert bg.any() and fg.any() and neg.any()
    aff = boundary_affinity(boundary, 4, 'psa')
    expected = irn_edge_loss(aff, bg.float(), fg.float(), neg.float())
    assert losses['loss_affinity'].item() == pytest.approx(
        expected.item(), rel=1e-6)


def test_a_step_lowers_the_loss_and_leaves_the_backbone():
    torch.manual_seed(0)
    model = build().train()
    assert not model.backbone.training  # frozen: BN in eval mode
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-2))
    batch = make_batch()

    def loss():
        with torch.no_grad():
            data = model.data_preprocessor(batch, True)
            return model(**data, mode='loss')['loss_affinity'].item()

    first = loss()
    model.train_step(batch, wrapper)
    assert loss() < first
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, before[key]), key
    trainable = build(freeze_backbone=False).train()
    assert trainable.backbone.training
    assert all(p.requires_grad for p in trainable.backbone.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match='out_level 5'):
        build(out_level=5)
    with pytest.raises(ValueError, match='pair_rule'):
        build(pair_rule='irn')
