import math

import pytest
import torch

import mmadv  # noqa: F401
from mmadv.models.heads import CAMHead, EraserHead, normalized_attention_maps


def test_normalized_attention_maps_by_hand():
    cams = torch.tensor([[[[-1., 2.], [4., 0.]]]])  # (1, 1, 2, 2)
    maps = normalized_attention_maps(cams, (2, 2), eps=0.)
    torch.testing.assert_close(maps, torch.tensor([[[[0., .5], [1., 0.]]]]))
    # upsampling: bilinear, align_corners=False, then min-max
    up = normalized_attention_maps(cams, (4, 4), eps=0.)
    assert up.shape == (1, 1, 4, 4)
    assert up.min() == 0 and up.max() == 1
    expected = torch.nn.functional.interpolate(
        cams.relu(), size=(4, 4), mode='bilinear', align_corners=False)
    torch.testing.assert_close(up, expected / expected.max())
    # an all-negative map stays zero instead of dividing by zero
    assert normalized_attention_maps(-torch.ones(1, 3, 3), (3, 3)).abs() \
        .max() == 0


def test_cam_equals_grad_cam_after_normalisation():
    torch.manual_seed(0)
    head = CAMHead(in_channels=8, num_classes=3)
    head.init_weights()
    feats = torch.randn(2, 8, 5, 6, requires_grad=True)
    logits, cams = head(feats)
    torch.testing.assert_close(logits, cams.mean(dim=(2, 3)))
    for c in range(3):
        grads, = torch.autograd.grad(logits[:, c].sum(), feats,
                                     retain_graph=True)
        weights = grads.mean(dim=(2, 3), keepdim=True)  # Grad-CAM alphas
        grad_cam = (weights * feats).sum(1).relu()  # (N, h, w)
        # closed form: Grad-CAM = ReLU(CAM) / (h w)
        torch.testing.assert_close(grad_cam, cams[:, c].relu() / 30)
        # equal after min-max normalisation (eps=0: eps is not scale-free)
        torch.testing.assert_close(
            normalized_attention_maps(grad_cam.detach(), (20, 24), eps=0.),
            normalized_attention_maps(cams[:, c].detach(), (20, 24), eps=0.))


def eader_compute_gradcam(gcam, size):
    """EADER's attention_map_wrapper.py compute_gradcam after the weighted
    sum, transcribed: ReLU, upsampling, then ``gcam -= min`` and ``gcam /=
    max`` where max != 0, else 1."""
    gcam = torch.nn.functional.interpolate(
        gcam.relu(), size, mode='bilinear', align_corners=False)
    batch, channels, height, width = gcam.shape
    gcam = gcam.view(batch, -1)
    gcam = gcam - gcam.min(dim=1, keepdim=True)[0]
    gcam_max = gcam.max(dim=1, keepdim=True)[0]
    gcam = gcam / torch.where(gcam_max != 0, gcam_max,
                              torch.ones_like(gcam_max))
    return gcam.view(batch, channels, height, width)


def test_eps_0_is_eaders_normalisation():
    gen = torch.Generator().manual_seed(0)
    cams = torch.randn(4, 1, 5, 6, generator=gen)
    cams[1] = -1.  # all negative: zero after ReLU, a zero span
    cams[2] = 0.7  # constant, up to the rounding of its upsampling
    maps = normalized_attention_maps(cams[:, 0], (20, 24), eps=0.)
    expected = eader_compute_gradcam(cams, (20, 24))[:, 0]
    torch.testing.assert_close(maps, expected)
    assert maps[1].abs().max() == 0
    # a constant map at its own size: a zero span, zero
    assert normalized_attention_maps(cams[2:3, 0], (5, 6), eps=0.).abs() \
        .max() == 0


def test_cam_head_bias_is_in_the_logits_not_in_the_maps():
    """A torchvision fc after pooling (EADER's localizer): logits
    ``w . GAP(F) + b``, maps ``w . F``, and Grad-CAM by autograd still the
    CAM over h w."""
    torch.manual_seed(0)
    head = CAMHead(in_channels=8, num_classes=3, bias=True, init_cfg=None)
    with torch.no_grad():
        head.classifier.bias.copy_(torch.tensor([1., -2., 3.]))
    feats = torch.randn(2, 8, 5, 6, requires_grad=True)
    logits, cams = head(feats)
    linear = torch.nn.functional.linear(
        feats.mean(dim=(2, 3)), head.classifier.weight[:, :, 0, 0],
        head.classifier.bias)
    torch.testing.assert_close(logits, linear)
    torch.testing.assert_close(
        cams, torch.einsum('ck,nkhw->nchw', head.classifier.weight[:, :, 0, 0],
                           feats))
    grads, = torch.autograd.grad(logits[:, 1].sum(), feats)
    grad_cam = (grads.mean(dim=(2, 3), keepdim=True) * feats).sum(1)
    torch.testing.assert_close(grad_cam, cams[:, 1] / 30)


def test_eraser_head_pairs_masks_and_erased_images():
    images = torch.randn(2, 3, 4, 4)
    cams = torch.zeros(2, 3, 4, 4)
    cams[0, 0, :2] = 1.  # top half of image 0 for class 0
    cams[0, 2, :, :1] = 2.  # left column of image 0 for class 2
    cams[1, 1, 3, 3] = 5.  # one pixel of image 1 for class 1
    labels = torch.tensor([[1., 0., 1.], [0., 1., 0.]])
    head = EraserHead(omega=100., sigma=0.5, eps=0.)
    out = head(images, cams, labels)
    assert out.pair_images.tolist() == [0, 0, 1]
    assert out.pair_classes.tolist() == [0, 2, 1]
    assert out.maps.shape == (3, 4, 4)
    assert out.masks.shape == (3, 1, 4, 4)
    assert out.erased_images.shape == (3, 3, 4, 4)
    high = 1 / (1 + math.exp(-50.))  # sigmoid(100 * (1 - 0.5))
    low = 1 / (1 + math.exp(50.))  # sigmoid(100 * (0 - 0.5))
    expected_mask = torch.full((4, 4), low)
    expected_mask[:2] = high
    torch.testing.assert_close(out.masks[0, 0], expected_mask)
    torch.testing.assert_close(out.erased_images[0],
                               images[0] * (1 - expected_mask))
    torch.testing.assert_close(out.erased_images[2, :, 3, 3],
                               images[1, :, 3, 3] * (1 - high))
    torch.testing.assert_close(out.erased_images[2, :, 0, 0],
                               images[1, :, 0, 0] * (1 - low))
    # sigma moves the threshold: A = 0.5 gives a half mask
    cams_half = torch.tensor([[[[0., 1.], [2., 2.]]]])
    half = EraserHead(sigma=0.5, eps=0.)(torch.ones(1, 3, 2, 2), cams_half,
                                         torch.ones(1, 1))
    assert half.masks[0, 0, 0, 1] == pytest.approx(0.5)


def test_eraser_head_gradient_reaches_the_maps():
    images = torch.randn(1, 3, 8, 8)
    cams = torch.randn(1, 2, 2, 2, requires_grad=True)
    out = EraserHead(omega=5.)(images, cams, torch.tensor([[1., 1.]]))
    out.erased_images.sum().backward()
    assert cams.grad is not None and cams.grad.abs().sum() > 0
