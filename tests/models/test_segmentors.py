"""Multi-scale + flip testing and DeepLab's CRF on a segmentation network,
each against an independent route: the views run one by one through the
plain network and averaged by hand; deeplab-pytorch's CRF transcribed."""
import copy

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from deeplab_reference import VOC12_CRF, DenseCRF
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmadv  # noqa: F401
from mmadv.engine.seg_protocols import SEG_PROTOCOLS, protocol_key
from mmadv.engine.training import without_masks
from mmadv.models import DeepLabCRF, DenseCRFSegmentor, SegProbTTAModel
from mmadv.utils.errors import ConfigError

SEG_CONFIG = REPO / 'configs/demo/deeplabv3plus_test-resnet_demo-pseudo.py'
H, W = 40, 52  # not multiples of the network's stride


@pytest.fixture(scope='module')
def toy():
    """The demo's DeepLabV3+ (random weights, 21 labels) and its
    config."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(SEG_CONFIG))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.decode_head.num_classes = 21
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    with torch.no_grad():  # confident, so that the views disagree
        model.decode_head.conv_seg.weight *= 300
    return cfg, model


@pytest.fixture
def images(tmp_path):
    """Two 40 x 52 images on disk."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(2):
        image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        image[:, W // 2:] = (200, 40, 40)  # a colour edge for the CRF
        path = str(tmp_path / f'img_{i}.png')
        cv2.imwrite(path, image)
        paths.append(path)
    return paths


def run_views(model, pipeline, paths):
    """``model.test_step`` of the batch ``pipeline`` makes of ``paths``."""
    batch = pseudo_collate([Compose(pipeline)(dict(img_path=p))
                            for p in paths])
    with torch.no_grad():
        return model.test_step(batch)


def view_probs(model, path, scale, flip):
    """The softmax of one view (resized by ``scale``, flipped or not) run
    alone through the plain network: ``postprocess_result`` resizes it
    back to the image and un-flips it."""
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale_factor=scale, keep_ratio=True),
        dict(type='RandomFlip', prob=float(flip), direction='horizontal'),
        dict(type='PackSegInputs')
    ]
    sample = run_views(model, pipeline, [path])[0]
    return sample.seg_logits.data.softmax(dim=0).numpy()


# two of the config's six scales: each new input size costs the network
# a slow first run on the CPU
SCALES = [0.5, 1.25]


@pytest.fixture
def tta_pipeline(toy):
    """The config's TTA pipeline at :data:`SCALES`, without masks."""
    cfg, _ = toy
    pipeline = without_masks(cfg.tta_pipeline)
    resize = pipeline[1]['transforms'][0]
    assert [t['scale_factor'] for t in resize] == [
        0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    pipeline[1]['transforms'][0] = [
        dict(resize[0], scale_factor=s) for s in SCALES]
    return pipeline


def test_tta_is_the_mean_softmax_of_the_views_run_one_by_one(
        toy, images, tta_pipeline):
    from mmseg.models.segmentors import SegTTAModel
    _, model = toy
    merged = run_views(SegProbTTAModel(module=model), tta_pipeline, images)
    for path, sample in zip(images, merged):
        views = [view_probs(model, path, s, f)
                 for s in SCALES for f in (False, True)]
        by_hand = np.mean(views, axis=0)
        probs = sample.seg_logits.data.exp().numpy()
        assert probs.shape == (21, H, W)
        np.testing.assert_allclose(probs, by_hand, atol=1e-5)
        np.testing.assert_array_equal(sample.pred_sem_seg.data[0].numpy(),
                                      by_hand.argmax(axis=0))
        assert sample.img_path == path
        # the views disagree: the mean is none of them
        assert min(np.abs(v - by_hand).max() for v in views) > 1e-2
    # the prediction is mmseg's own TTA model's
    theirs = run_views(SegTTAModel(module=model), tta_pipeline, images)
    for a, b in zip(merged, theirs):
        np.testing.assert_array_equal(a.pred_sem_seg.data.squeeze().numpy(),
                                      b.pred_sem_seg.data.squeeze().numpy())


def test_crf_values_are_deeplab_pytorchs():
    crf = DeepLabCRF()
    assert (crf.iter_max, crf.pos_w, crf.pos_xy_std, crf.bi_w,
            crf.bi_xy_std, crf.bi_rgb_std) == tuple(VOC12_CRF.values())


@pytest.mark.parametrize('fields', [{}, dict(iter_max=3, bi_xy_std=20)])
def test_crf_is_deeplab_pytorchs_dense_crf(fields):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    logits = rng.normal(0, 2, (5, H, W))
    probs = (np.exp(logits) / np.exp(logits).sum(0)).astype(np.float32)
    ours = DeepLabCRF(**fields)
    theirs = DenseCRF(ours.iter_max, ours.pos_w, ours.pos_xy_std, ours.bi_w,
                      ours.bi_xy_std, ours.bi_rgb_std)
    np.testing.assert_allclose(ours(image, probs), theirs(image, probs),
                               rtol=1e-6, atol=1e-7)
    # and the CRF changes something
    assert (ours(image, probs).argmax(0) != probs.argmax(0)).any()


def test_crf_fields_are_checked():
    for fields in (dict(iter_max=-1), dict(iter_max=1.5), dict(pos_w=-1),
                   dict(bi_rgb_std=0), dict(bi_xy_std=float('nan'))):
        with pytest.raises(ConfigError, match='crf.'):
            DeepLabCRF(**fields)


def test_crf_segmentor_refines_the_modules_probabilities(toy, images):
    cfg, model = toy
    crf = DenseCRFSegmentor(module=model)
    pipeline = without_masks(cfg.test_dataloader.dataset.pipeline)
    plain = run_views(model, pipeline, images)
    refined = run_views(crf, pipeline, images)
    for path, a, b in zip(images, plain, refined):
        image = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        expected = DenseCRF(*VOC12_CRF.values())(
            image, a.seg_logits.data.softmax(0).numpy())
        np.testing.assert_allclose(b.seg_logits.data.exp().numpy(),
                                   expected, atol=1e-5)
        np.testing.assert_array_equal(b.pred_sem_seg.data[0].numpy(),
                                      expected.argmax(0))


def test_crf_segmentor_refuses_a_prediction_of_another_size(toy, images):
    _, model = toy
    sample = SegDataSample(metainfo=dict(img_path=images[0]))
    sample.seg_logits = PixelData(data=torch.zeros(21, H + 1, W))
    with pytest.raises(Exception, match='img_0.png: the prediction is'):
        DenseCRFSegmentor(module=model).refine(sample)


def test_protocols_change_the_config_as_mmsegs_test_tool(toy):
    cfg, _ = toy
    keys = {protocol_key(t, c) for t in (False, True) for c in (False, True)}
    assert keys == set(SEG_PROTOCOLS)
    plain = SEG_PROTOCOLS['single-scale'].apply(cfg)
    assert plain.model == cfg.model
    both = SEG_PROTOCOLS['ms-flip-crf'].apply(cfg)
    # mmseg's tools/test.py --tta: the TTA pipeline, tta_model(module=model)
    assert both.test_dataloader.dataset.pipeline == cfg.tta_pipeline
    assert both.model.type == 'DenseCRFSegmentor'
    assert both.model.module.type == 'SegProbTTAModel'
    assert both.model.module.module == cfg.model
    stock = copy.deepcopy(cfg)
    stock.tta_model = dict(type='SegTTAModel')
    with pytest.raises(ConfigError, match='keeps no merged probabilities'):
        SEG_PROTOCOLS['ms-flip-crf'].apply(stock)
    stock.tta_pipeline = None
    with pytest.raises(ConfigError, match='no tta_pipeline for the ms-flip'):
        SEG_PROTOCOLS['ms-flip'].apply(stock)


def test_without_masks_keeps_every_other_transform(toy):
    cfg, _ = toy
    kept = without_masks(cfg.tta_pipeline)
    assert [t['type'] for t in kept] == ['LoadImageFromFile', 'TestTimeAug']
    stages = kept[1]['transforms']
    assert [len(s) for s in stages] == [6, 2, 1]
    assert stages[-1][0]['type'] == 'PackSegInputs'
    assert [t['type'] for t in without_masks(
        cfg.test_dataloader.dataset.pipeline)] == [
            'LoadImageFromFile', 'PackSegInputs']
