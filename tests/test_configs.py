"""Every stage-1 config trains a few iterations on CPU on a tiny VOC tree,
then is tested (CAM mIoU through mmseg's IoUMetric)."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import timm
import torch
from conftest import miou_by_hand
from mmengine.config import Config
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, init_default_scope
from mmseg.registry import MODELS

import mmadv  # noqa: F401
from mmadv.apis import MissingInputError, build_runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
EADER_CONFIGS = [
    'eader/adv_erase_r101_voc.py', 'eader/cam_r101_voc.py',
    'eader/adv_erase_shared_r101_voc.py'
]
CONFIGS = [
    'adv_erase_r38_voc.py', 'cam_r38_voc.py', 'adv_erase_shared_r38_voc.py',
    'adv_erase_timm-resnet50d_voc.py', 'adv_erase_timm-convnext-tiny_voc.py',
    *EADER_CONFIGS
]
CROP = 32


def tiny_options(data_root, max_iters=2, eader=False):
    """``--cfg-options`` that shrink a VOC config (``eader``: one of
    ``configs/eader/``) to the tiny tree."""
    if eader:  # EADER's RandomResizedCrop, 2 x 2 maps at stride 32 (1 x 1
        # maps are constant up to rounding, which eps=0 divides by)
        crop = {'train_dataloader.dataset.pipeline.1.size': 2 * CROP,
                'crop_size': (2 * CROP, 2 * CROP)}
    else:  # the PSA augmentation (one Compose): resize and crop
        crop = {
            'train_dataloader.dataset.pipeline.1.transforms.0.scale':
            (64, 64),
            'train_dataloader.dataset.pipeline.1.transforms.0.ratio_range':
            (0.5, 1.0),
            'train_dataloader.dataset.pipeline.1.transforms.3.crop_size':
            (CROP, CROP),
            'param_scheduler.0.end': max_iters,
        }
    return {
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(data_root),
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset.data_root': str(data_root),
        'val_dataloader.dataset.data_prefix.seg_map_path':
        'SegmentationClassAug',
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'test_dataloader.dataset.data_root': str(data_root),
        'test_dataloader.dataset.data_prefix.seg_map_path':
        'SegmentationClassAug',
        'crop_size': (CROP, CROP),  # the padding size follows it
        'model.localizer_iters': 1,
        'model.adversary_iters': 1,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.logger.interval': 1,
        # one checkpoint, at the end (each is hundreds of MB for ResNet-38)
        'default_hooks.checkpoint.interval': max_iters,
        'env_cfg.cudnn_benchmark': False,
        'randomness.seed': 0,
        **crop,
    }


def tiny_config(name, data_root, work_dir, max_iters=2):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    cfg.merge_from_dict(
        tiny_options(data_root, max_iters, name in EADER_CONFIGS))
    for part in ('localizer', 'adversary'):  # no ImageNet weights here
        backbone = (cfg.model[part] or {}).get('backbone', {})
        if backbone.get('type') == 'ResNet38d':
            backbone.init_cfg = None
        if backbone.get('checkpoint'):
            backbone.checkpoint = None
    if cfg.custom_hooks:
        cfg.custom_hooks[0].interval = 1
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    return cfg


def save_tiny_classifier(data_root, folder):
    """A tiny adversarial erasing config (timm test_resnet networks) on
    ``data_root`` and a checkpoint of its model with random weights, saved
    in ``folder``; ``(config, checkpoint, model)``."""
    cfg = tiny_config('adv_erase_timm-resnet50d_voc.py', data_root,
                      osp.join(folder, 'work'))
    cfg.model.localizer.backbone.model_name = 'test_resnet'
    cfg.model.adversary.backbone.model_name = 'test_resnet'
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    checkpoint = osp.join(folder, 'model.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    config = osp.join(folder, 'tiny_adv_erase.py')
    cfg.dump(config)
    return config, checkpoint, model


def cam_miou_by_hand(model, dataset_cfg):
    """The CAM mIoU (%) of ``model`` on a split, by another route than the
    test loop: cv2 reads and normalises each image, the labels are the
    mask's classes, the prediction is background where the labelled
    classes' maps are all below ``bg_threshold`` and the best class
    elsewhere, and the IoU of each class over the split (ignoring 255;
    a class in neither prediction nor mask is left out) is averaged."""
    root = dataset_cfg.data_root
    with open(osp.join(root, dataset_cfg.ann_file)) as f:
        names = f.read().split()
    mean = np.array([123.675, 116.28, 103.53])
    std = np.array([58.395, 57.12, 57.375])
    pairs = []
    for name in names:
        bgr = cv2.imread(osp.join(root, 'JPEGImages', name + '.jpg'))
        rgb = bgr[..., ::-1]
        gt = cv2.imread(
            osp.join(root, dataset_cfg.data_prefix.seg_map_path,
                     name + '.png'), cv2.IMREAD_UNCHANGED)
        image = torch.from_numpy(((rgb - mean) / std).transpose(2, 0, 1))
        with torch.no_grad():
            _, maps = model(image[None].float(), mode='tensor')
        classes = np.setdiff1d(np.unique(gt), [0, 255]).astype(int) - 1
        present = maps[0, classes].numpy()
        pairs.append((np.where(present.max(0) < model.bg_threshold, 0,
                               classes[present.argmax(0)] + 1), gt))
    return 100 * miou_by_hand(pairs)


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_and_tests_on_cpu(name, tiny_voc, tmp_path):
    cfg = tiny_config(name, tiny_voc, tmp_path)
    runner = build_runner(cfg)
    runner.train()
    model = runner.model
    assert int(model.iteration) == 2
    with_adversary = model.adversary is not None
    assert set(runner.optim_wrapper.keys()) == (
        {'localizer', 'adversary'} if with_adversary else {'localizer'})
    scalars = runner.message_hub.log_scalars
    assert 'train/loss_localizer' in scalars
    assert ('train/loss_adversary' in scalars) == with_adversary
    assert ('train/loss_am' in scalars) == (model.attention_mining_loss
                                            is not None)
    if with_adversary:
        assert 'train/adversary.lr' in scalars
        assert 'train/localizer.lr' in scalars
    # CAM mIoU on the tiny val split, by mmseg's IoUMetric, as by hand
    metrics = runner.test()
    assert metrics['mIoU'] == pytest.approx(
        cam_miou_by_hand(model, cfg.test_dataloader.dataset), abs=0.01)
    assert osp.isfile(osp.join(tmp_path, 'iter_2.pth'))
    if model.with_erasing:
        pictures = runner.visualizer._vis_backends[
            'LocalVisBackend']._img_save_dir
        assert osp.isfile(osp.join(pictures, 'erasing_2.png'))


def test_resume_restores_phase_and_both_optimizers(tiny_voc, tmp_path):
    name = 'adv_erase_timm-resnet50d_voc.py'

    def config(max_iters, resume):
        cfg = tiny_config(name, tiny_voc, tmp_path, max_iters)
        cfg.model.localizer.backbone.model_name = 'test_resnet'
        cfg.model.adversary.backbone.model_name = 'test_resnet'
        for key in ('localizer', 'adversary'):
            cfg.optim_wrapper[key].optimizer.momentum = 0.9
        cfg.model.localizer_iters, cfg.model.adversary_iters = 2, 1
        cfg.resume = resume
        return cfg

    runner = build_runner(config(3, False))
    runner.train()
    saved = {k: w.state_dict() for k, w in runner.optim_wrapper.items()}
    saved_model = runner.model.state_dict()

    resumed = build_runner(config(5, True))
    resumed.load_or_resume()
    assert resumed.iter == 3
    assert int(resumed.model.iteration) == 3
    assert resumed.model.phase == 0  # 3 % (2 + 1): localizer again
    for key, state in saved.items():
        now = resumed.optim_wrapper[key].state_dict()
        assert now['state'].keys() == state['state'].keys() != set()
        for idx, buffers in state['state'].items():
            torch.testing.assert_close(now['state'][idx]['momentum_buffer'],
                                       buffers['momentum_buffer'])
    for key, value in saved_model.items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value)
    resumed.train()
    assert int(resumed.model.iteration) == 5


def test_timm_backbone_swapped_in_through_cfg_options(tiny_voc, tmp_path):
    options = tiny_options(tiny_voc, max_iters=1)
    options['model.localizer.backbone.model_name'] = 'test_convnext'
    options['model.localizer.backbone.output_stride'] = 8
    options['model.adversary.backbone.model_name'] = 'test_resnet'
    options['custom_hooks'] = []
    args = [
        f'{k}=({v[0]},{v[1]})' if isinstance(v, tuple) else f'{k}={v}'
        for k, v in options.items()
    ]
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
         osp.join(ROOT, 'configs', 'adv_erase_timm-resnet50d_voc.py'),
         '--work-dir', str(tmp_path), '--cfg-options', *args],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = torch.load(str(tmp_path / 'iter_1.pth'), map_location='cpu',
                            weights_only=False)
    # the trained localizer is timm's test_convnext at stride 8: its
    # weights fit that network, every key and shape
    prefix = 'localizer.backbone.timm_model.'
    trained = {k[len(prefix):]: v for k, v in checkpoint['state_dict'].items()
               if k.startswith(prefix)}
    convnext = timm.create_model('test_convnext', features_only=True,
                                 output_stride=8)
    convnext.load_state_dict(trained, strict=True)


@pytest.mark.parametrize('name', ['adv_erase_r38_voc.py', 'cam_r38_voc.py',
                                  'adv_erase_shared_r38_voc.py'])
def test_r38_localizer_has_psas_dropout_and_frozen_stem(name):
    """PSA's resnet38_cls.py: Dropout2d(0.5) before fc8, and conv1a, b2,
    b2_1, b2_2 not trained."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    cfg.model.localizer.backbone.init_cfg = None  # no weights here
    init_default_scope('mmseg')
    localizer = MODELS.build(cfg.model.localizer)
    dropout = localizer.backbone.dropout7
    assert isinstance(dropout, torch.nn.Dropout2d) and dropout.p == 0.5
    # the other backbones (timm, the demo's) have none: the line swaps it
    other = Config.fromfile(osp.join(ROOT, 'configs',
                                     'adv_erase_timm-resnet50d_voc.py'))
    assert 'feature_dropout' not in other.model.localizer.backbone
    assert other.model.localizer.head.get('dropout', 0.) == 0.
    localizer.train()
    assert not any(p.requires_grad
                   for p in localizer.backbone.b2_2.parameters())
    assert all(p.requires_grad
               for p in localizer.backbone.b3.conv_branch2a.parameters())


# EADER's code (github ErikStammes/EADER): train.py's argument defaults,
# training_utils.py, models/load_models.py, data/load_data.py, utils.py
EADER_RECIPE = {
    'model.localizer.backbone.model_name': 'resnet101',
    'model.localizer.backbone.checkpoint':
    'data/pretrained/resnet101-5d3b4d8f.pth',
    'model.localizer.head.bias': True,
    'model.localizer.head.init_cfg': None,
    'model.adversary.backbone.model_name': 'resnet18',
    'model.adversary.backbone.checkpoint':
    'data/pretrained/resnet18-5c106cde.pth',
    'model.adversary.head.bias': True,
    'model.eraser_head.omega': 100.0,
    'model.eraser_head.sigma': 0.5,
    'model.eraser_head.eps': 0.0,
    'model.attention_mining_loss.loss_weight': 0.05,
    'model.attention_mining_loss.use_sigmoid': True,
    'model.regularization_loss.loss_weight': 1e-5,
    'model.train_cam_weights': False,
    'model.localizer_iters': 200,
    'model.adversary_iters': 200,
    'model.simultaneous': False,
    'model.bg_threshold': 0.3,
    'train_dataloader.batch_size': 16,
    'train_dataloader.dataset.label_source': 'mask',
    'train_dataloader.dataset.ann_file':
    'ImageSets/Segmentation/train_aug.txt',
    'train_dataloader.dataset.data_prefix.seg_map_path':
    'SegmentationClassAug',
    'val_dataloader.dataset.label_source': 'mask',
    'test_dataloader.dataset.label_source': 'mask',
    'val_dataloader.batch_size': 1,
    'optim_wrapper.localizer.optimizer':
    dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    'optim_wrapper.adversary.optimizer':
    dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    'param_scheduler': None,
    'train_cfg.max_iters': 6620,
    'model.data_preprocessor.mean': [123.675, 116.28, 103.53],
    'model.data_preprocessor.std': [58.395, 57.12, 57.375],
}
EADER_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=448, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWeakSegInputs')
]
EADER_VARIANTS = {
    'eader/adv_erase_r101_voc.py': {},
    # train.py without --adversarial_model: BCE + beta L_reg
    'eader/cam_r101_voc.py': {
        'model.adversary': None,
        'model.attention_mining_loss': None,
        'optim_wrapper.adversary': None
    },
    # train.py --share_weights: compute_am_loss on the localizer's logits
    'eader/adv_erase_shared_r101_voc.py': {
        'model.adversary': None,
        'model.attention_mining_loss.use_sigmoid': False,
        'optim_wrapper.adversary': None
    },
}


def config_value(cfg, key):
    value = cfg
    for part in key.split('.'):
        if value is None:
            return None
        value = value[part]
    return value.to_dict() if hasattr(value, 'to_dict') else value


@pytest.mark.parametrize('name', EADER_CONFIGS)
def test_eader_configs_are_the_authors_recipe(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    expected = {**EADER_RECIPE, **EADER_VARIANTS[name]}
    for key, value in expected.items():
        if any(key.startswith(other + '.') for other, v in expected.items()
               if v is None):
            continue  # under a part the variant removes
        assert config_value(cfg, key) == value, key
    assert cfg.train_dataloader.dataset.pipeline == EADER_PIPELINE
    assert cfg.model.regularization_loss is not None  # all three keep it
    # the networks these build: stride 32, every parameter (BatchNorm too)
    # trained, a logit bias, one SGD group at lr 0.01 over all of them
    for part in ('localizer', 'adversary'):
        backbone = cfg.model[part] and cfg.model[part].backbone
        if backbone:
            backbone.checkpoint = None  # no ImageNet weights here
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert model.localizer.backbone.strides == (32, )
    assert all(p.requires_grad for p in model.parameters())
    assert model.localizer.head.classifier.bias is not None
    assert isinstance(model.localizer.head.dropout, torch.nn.Identity)
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MultiOptimWrapperConstructor',
             optim_wrapper_cfg={k: v for k, v in cfg.optim_wrapper.items()
                                if k != 'constructor' and v}))(model)
    for key, wrapper in optim.items():
        groups = wrapper.optimizer.param_groups
        assert [(g['lr'], g['momentum'], g['weight_decay']) for g in groups
                ] == [(0.01, 0.9, 1e-4)] * len(groups)
        assert sum(len(g['params']) for g in groups) == len(
            list(getattr(model, key).parameters()))


def test_eader_weights_missing_are_named(tmp_path, monkeypatch):
    """No download: a missing ImageNet file stops the build, naming it."""
    monkeypatch.chdir(tmp_path)  # no data/pretrained here
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'eader/adv_erase_r101_voc.py'))
    init_default_scope('mmseg')
    with pytest.raises(MissingInputError,
                       match='data/pretrained/resnet101-5d3b4d8f.pth$'):
        MODELS.build(cfg.model)


@pytest.mark.parametrize('name', [
    'adv_erase_demo.py', 'cam_demo.py', 'affinity_demo.py', 'irn_demo.py',
    'deeplabv3plus_test-resnet_demo-pseudo.py', 'adv_erase_toy-objects.py'
])
def test_demo_trainings_save_often_enough_to_resume(name):
    """A demo training cut short resumes from at most 100 iterations back
    (seconds on a CPU), not from the start: its checkpoints come every
    100 iterations, and only the last is kept."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'demo', name))
    checkpoint = cfg.default_hooks.checkpoint
    assert checkpoint.interval == 100 < cfg.train_cfg.max_iters
    assert cfg.train_cfg.max_iters % checkpoint.interval == 0
    assert checkpoint.max_keep_ckpts == 1
