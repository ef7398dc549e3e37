"""Every stage-1 config trains a few iterations on CPU on a tiny VOC tree,
then is tested (CAM mIoU through mmseg's IoUMetric)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmadv  # noqa: F401
from mmadv.apis import build_runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = [
    'adv_erase_r38_voc.py', 'cam_r38_voc.py', 'adv_erase_shared_r38_voc.py',
    'adv_erase_timm-resnet50d_voc.py', 'adv_erase_timm-convnext-tiny_voc.py'
]
CROP = 32


def tiny_options(data_root, max_iters=2):
    """``--cfg-options`` that shrink a VOC config to the tiny tree."""
    return {
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(data_root),
        # the PSA augmentation (one Compose): resize and crop
        'train_dataloader.dataset.pipeline.1.transforms.0.scale': (64, 64),
        'train_dataloader.dataset.pipeline.1.transforms.0.ratio_range':
        (0.5, 1.0),
        'train_dataloader.dataset.pipeline.1.transforms.3.crop_size':
        (CROP, CROP),
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
        'model.data_preprocessor.size': (CROP, CROP),
        'model.localizer_iters': 1,
        'model.adversary_iters': 1,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'param_scheduler.0.end': max_iters,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'env_cfg.cudnn_benchmark': False,
        'randomness.seed': 0,
    }


def tiny_config(name, data_root, work_dir, max_iters=2):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    cfg.merge_from_dict(tiny_options(data_root, max_iters))
    backbone = cfg.model.localizer.backbone
    if backbone.type == 'ResNet38d':
        backbone.init_cfg = None  # no ImageNet weights here
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
    # CAM mIoU on the tiny val split, by mmseg's IoUMetric
    metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100
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
    assert 'ConvNeXt' in checkpoint['meta']['cfg'] or \
        'test_convnext' in checkpoint['meta']['cfg']
    keys = checkpoint['state_dict'].keys()
    assert any(k.startswith('localizer.backbone.timm_model.stages_')
               for k in keys)


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
