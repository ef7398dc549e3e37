"""Multi-scale + flip map fusion against a step-by-step numpy/cv2 route,
and the helpers of stage 2 (preprocessing, strict loading, sharding)."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import VOC_CLASSES, VOC_PALETTE
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmadv  # noqa: F401  (compat shim before mmseg models)
from mmadv.engine import load_checkpoint_strict
from mmadv.datasets.map_io import map_path, read_meta, save_maps
from mmadv.pseudo_labels import map_inference
from mmadv.pseudo_labels.map_inference import (multi_scale_maps,
                                               prepare_map_folder,
                                               preprocess_item)

NUM_CLASSES = 5


class ConvPoolLocalizer(nn.Module):
    """cams = avg_pool_2(conv(x)), a fixed 1x2 convolution (no padding:
    width w - 1) at output stride 2. Not mirror-symmetric, so the flipped
    view adds information."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        super().__init__()
        self.conv = nn.Conv2d(3, len(bias), (1, 2))
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(weight)[:, :, None])
            self.conv.bias.copy_(torch.from_numpy(bias))

    def forward(self, x):
        cams = F.avg_pool2d(self.conv(x), 2)
        return cams.mean((2, 3)), cams


def reference_maps(image, weight, bias, classes, scales, flip):
    """PSA's fusion, one view and one class at a time, with numpy and cv2
    (cv2's INTER_LINEAR is the half-pixel bilinear of align_corners=False).
    """
    _, height, width = image.shape
    hwc = image.transpose(1, 2, 0)
    total = np.zeros((len(classes), height, width), np.float64)
    for scale in scales:
        h, w = round(height * scale), round(width * scale)
        resized = cv2.resize(hwc, (w, h), interpolation=cv2.INTER_LINEAR)
        views = [resized, resized[:, ::-1]] if flip else [resized]
        for flipped, view in enumerate(views):
            # (h, w - 1, C): left tap on pixel j, right tap on j + 1
            cams = (view[:, :-1] @ weight[..., 0].T +
                    view[:, 1:] @ weight[..., 1].T + bias)
            h2, w2 = h // 2 * 2, (w - 1) // 2 * 2  # avg_pool2d floors
            cams = cams[:h2, :w2].reshape(h2 // 2, 2, w2 // 2, 2, -1)
            cams = cams.mean(axis=(1, 3))
            for k, cls in enumerate(classes):
                cam = np.ascontiguousarray(np.maximum(cams[..., cls], 0))
                up = cv2.resize(cam.astype(np.float32), (width, height),
                                interpolation=cv2.INTER_LINEAR)
                total[k] += up[:, ::-1] if flipped else up
    peak = total.max(axis=(1, 2), keepdims=True)
    return total / (peak + 1e-5)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 20, 28)).astype(np.float32)
    image[:, :, :9] += 2.  # asymmetric: a bright left band
    weight = rng.normal(size=(NUM_CLASSES, 3, 2)).astype(np.float32)
    bias = rng.normal(scale=0.5, size=NUM_CLASSES).astype(np.float32)
    bias[2] = -100.  # class 2 never activates
    return image, weight, bias


@pytest.mark.parametrize('flip', [True, False])
def test_fusion_matches_step_by_step_route(problem, flip):
    image, weight, bias = problem
    localizer = ConvPoolLocalizer(weight, bias)
    classes = [3, 0, 4]
    scales = (0.5, 0.75, 1.0, 1.5)  # 0.75: odd height 15
    maps = multi_scale_maps(localizer, torch.from_numpy(image),
                            torch.tensor(classes), scales, flip)
    expected = reference_maps(image, weight, bias, classes, scales, flip)
    assert maps.shape == (3, 20, 28)
    np.testing.assert_allclose(maps.numpy(), expected, atol=1e-4)
    # normalised after the sum: every map peaks at max / (max + 1e-5)
    np.testing.assert_allclose(maps.flatten(1).max(1).values.numpy(), 1.,
                               atol=1e-4)
    assert maps.min() >= 0


def test_flip_is_undone_before_summing(problem):
    image, weight, bias = problem
    localizer = ConvPoolLocalizer(weight, bias)
    image = torch.from_numpy(image)
    classes = torch.tensor([0, 1, 3])
    fused = multi_scale_maps(localizer, image, classes, (1.0, 1.5), True)
    # the fused maps of the mirrored image are the mirrored fused maps
    mirrored = multi_scale_maps(localizer, image.flip(-1), classes,
                                (1.0, 1.5), True)
    torch.testing.assert_close(mirrored, fused.flip(-1), atol=1e-5,
                               rtol=1e-5)
    # flip adds the flipped-back maps of the mirrored image: S = S_0 + S_1
    unflipped = multi_scale_maps(localizer, image, classes, (1.0, 1.5),
                                 flip=False)
    total = unflipped * 0
    for view in (image, image.flip(-1)):
        for scale in (1.0, 1.5):
            size = (round(20 * scale), round(28 * scale))
            x = F.interpolate(view[None], size=size, mode='bilinear',
                              align_corners=False)
            cams = F.relu(localizer(x)[1][0, classes])
            up = F.interpolate(cams[None], size=(20, 28), mode='bilinear',
                               align_corners=False)[0]
            total += up if view is image else up.flip(-1)
    expected = total / (total.flatten(1).max(1).values[:, None, None] + 1e-5)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(fused, unflipped, atol=1e-3)


def test_views_go_through_the_localizer_one_at_a_time(problem):
    """One forward pass of one image per view (each scale, and its flip
    apart), so the peak memory is one view's; the maps equal those of
    PSA's batches of the image and its flip, summed here."""
    image, weight, bias = problem
    localizer = ConvPoolLocalizer(weight, bias)
    image = torch.from_numpy(image)
    classes = torch.tensor([3, 0])
    scales = (0.5, 1.0, 1.5)
    shapes = []

    def recording(x):
        shapes.append(tuple(x.shape))
        return localizer(x)

    fused = multi_scale_maps(recording, image, classes, scales, True)
    assert shapes == [(1, 3, 10, 14)] * 2 + [(1, 3, 20, 28)] * 2 + [
        (1, 3, 30, 42)] * 2
    total = torch.zeros(2, 20, 28)
    for scale in scales:
        size = (round(20 * scale), round(28 * scale))
        x = F.interpolate(image[None], size=size, mode='bilinear',
                          align_corners=False)
        cams = F.relu(localizer(torch.cat([x, x.flip(-1)]))[1][:, classes])
        up = F.interpolate(cams, size=(20, 28), mode='bilinear',
                           align_corners=False)
        total += up[0] + up[1].flip(-1)
    expected = total / (total.flatten(1).max(1).values[:, None, None] + 1e-5)
    torch.testing.assert_close(fused, expected, atol=1e-6, rtol=1e-6)


def test_classes_select_and_order_the_maps(problem):
    image, weight, bias = problem
    localizer = ConvPoolLocalizer(weight, bias)
    image = torch.from_numpy(image)
    psa = ((0.5, 1.0, 1.5, 2.0), True)
    maps = multi_scale_maps(localizer, image, torch.tensor([4, 2, 1]), *psa)
    for k, cls in enumerate([4, 2, 1]):
        alone = multi_scale_maps(localizer, image, torch.tensor([cls]), *psa)
        torch.testing.assert_close(maps[k], alone[0])
    assert torch.equal(maps[1], torch.zeros(20, 28))  # never active: zero
    empty = multi_scale_maps(localizer, image, torch.tensor([], dtype=int),
                             *psa)
    assert empty.shape == (0, 20, 28)


def test_bad_inputs():
    localizer = ConvPoolLocalizer(np.ones((2, 3, 2), np.float32),
                                  np.zeros(2, np.float32))
    with pytest.raises(ValueError, match=r'\(3, H, W\)'):
        multi_scale_maps(localizer, torch.zeros(1, 3, 8, 8), torch.tensor([0]),
                         (1.0, ), True)
    with pytest.raises(ValueError, match='scales'):
        multi_scale_maps(localizer, torch.zeros(3, 8, 8), torch.tensor([0]),
                         scales=(), flip=True)
    with pytest.raises(ValueError, match=r'each a number in \(0, 4\]'):
        multi_scale_maps(localizer, torch.zeros(3, 8, 8), torch.tensor([0]),
                         scales=(1.0, 0.), flip=True)


@pytest.mark.parametrize('test_cfg', [None, dict(size_divisor=16)])
def test_preprocess_item_follows_the_config(test_cfg):
    init_default_scope('mmseg')
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    preprocessor = MODELS.build(
        dict(type='SegDataPreProcessor', mean=mean, std=std,
             bgr_to_rgb=True, size=(32, 32), test_cfg=test_cfg))
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (10, 13, 3), dtype=np.uint8)
    sample = SegDataSample()
    sample.gt_class_labels = torch.tensor([0., 1., 0., 1., 1.])
    item = dict(inputs=torch.from_numpy(bgr).permute(2, 0, 1).contiguous(),
                data_samples=sample)
    image, classes = preprocess_item(preprocessor, item)
    rgb = bgr[..., ::-1].astype(np.float32)
    expected = ((rgb - np.float32(mean)) / np.float32(std)).transpose(2, 0, 1)
    np.testing.assert_allclose(image.numpy(), expected, rtol=1e-6,
                               atol=1e-6)
    assert classes.tolist() == [1, 3, 4]


def test_strict_loading_names_both_files_and_the_keys(tmp_path):
    path = str(tmp_path / 'model.pth')
    torch.save({'state_dict': nn.Linear(2, 3).state_dict()}, path)
    model = nn.Linear(2, 3)
    load_checkpoint_strict(model, path, 'cfg.py')
    torch.testing.assert_close(model.weight,
                               torch.load(path)['state_dict']['weight'])
    with pytest.raises(ValueError) as error:
        load_checkpoint_strict(nn.Linear(2, 4), path, 'cfg.py')
    assert path in str(error.value) and 'cfg.py' in str(error.value)
    assert 'weight (3, 2) vs (4, 2)' in str(error.value)
    with pytest.raises(ValueError) as error:
        load_checkpoint_strict(nn.Sequential(nn.Linear(2, 3)), path, 'c.py')
    message = str(error.value)
    assert 'missing keys: 0.bias, 0.weight' in message
    assert 'unexpected keys: bias, weight' in message
    assert '\n' not in message
    with pytest.raises(ValueError, match='cannot read checkpoint'):
        load_checkpoint_strict(model, str(tmp_path / 'none.pth'))


def test_map_folder_refuses_other_settings(tmp_path, monkeypatch):
    meta = dict(split='train_aug', scales=[1.0], flip=True)
    with monkeypatch.context() as rank_1:
        rank_1.setattr(map_inference, 'get_dist_info', lambda: (1, 2))
        prepare_map_folder(str(tmp_path / 'a'), meta)
    assert not (tmp_path / 'a' / 'meta.json').exists()  # rank 0 writes it
    prepare_map_folder(str(tmp_path / 'a'), meta)
    assert read_meta(str(tmp_path / 'a'), 'train_aug') == meta
    prepare_map_folder(str(tmp_path / 'a'), meta)  # same settings: resume
    # no maps yet: nothing to mix, the folder takes the other settings
    prepare_map_folder(str(tmp_path / 'a'), dict(meta, scales=[2.0]))
    assert read_meta(str(tmp_path / 'a'))['scales'] == [2.0]
    save_maps(map_path(str(tmp_path / 'a'), 'x'), np.zeros(1, int),
              np.zeros((1, 2, 2), np.float32))
    prepare_map_folder(str(tmp_path / 'a'), dict(meta, scales=[2.0]))
    with pytest.raises(ValueError, match="scales: \\[2.0\\] now \\[1.0\\]"):
        prepare_map_folder(str(tmp_path / 'a'), meta)
    (tmp_path / 'a' / 'meta.json').unlink()  # maps of unknown origin
    with pytest.raises(ValueError, match='holds map files but no meta.json'):
        prepare_map_folder(str(tmp_path / 'a'), meta)


def test_a_folder_made_before_the_classes_were_recorded_resumes(tmp_path):
    """Folders without ``classes`` hold VOC's labels: maps of VOC's
    classes resume there, another data set's are refused."""
    folder = str(tmp_path / 'old')
    meta = dict(split='train_aug', scales=[1.0], flip=True)
    prepare_map_folder(folder, meta)
    save_maps(map_path(folder, 'x'), np.zeros(1, int),
              np.zeros((1, 2, 2), np.float32))
    voc = dict(meta, classes=list(VOC_CLASSES),
               palette=[list(c) for c in VOC_PALETTE])
    prepare_map_folder(folder, voc)
    with pytest.raises(ValueError, match='classes'):
        prepare_map_folder(folder, dict(voc, classes=['background', 'a'],
                                        palette=[[0, 0, 0], [1, 1, 1]]))
