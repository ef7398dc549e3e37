"""The stage-2 DeepLabV3+ configs inherit mmseg's stock VOC configs and
train on pseudo-label PNGs."""
import os.path as osp
import shutil

import torch
from mmengine.config import Config
from test_configs import ROOT

import mmadv  # noqa: F401
from mmadv.apis import build_runner

STOCK = 'deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py'


def test_r101_config_changes_only_the_training_labels(tmp_path):
    ours = Config.fromfile(
        osp.join(ROOT, 'configs', 'deeplabv3plus_r101-d8_voc12aug-pseudo.py'))
    stock_file = tmp_path / 'stock.py'  # loaded the same way, mmseg::
    stock_file.write_text(f"_base_ = ['mmseg::{STOCK}']\n")
    stock = Config.fromfile(str(stock_file))
    assert ours.model.pretrained is None  # nothing downloads
    assert stock.model.pretrained.startswith('open-mmlab://')
    ours.model.pretrained = stock.model.pretrained
    assert ours.model == stock.model
    assert ours.val_dataloader == stock.val_dataloader
    assert ours.test_evaluator == stock.test_evaluator
    assert ours.param_scheduler == stock.param_scheduler
    assert ours.train_cfg == stock.train_cfg
    train = ours.train_dataloader.dataset
    assert train.type == 'PascalVOCDataset'
    assert train.ann_file == 'ImageSets/Segmentation/train_aug.txt'
    assert train.data_prefix.seg_map_path == ours.pseudo_label_dir
    assert train.pipeline == stock.train_pipeline
    r50 = Config.fromfile(
        osp.join(ROOT, 'configs', 'deeplabv3plus_r50-d8_voc12aug-pseudo.py'))
    assert r50.model.backbone.depth == 50


def test_r50_config_trains_one_iteration_on_pseudo_labels(tiny_voc, tmp_path):
    pseudo = tmp_path / 'pseudo'
    shutil.copytree(tiny_voc / 'SegmentationClassAug', pseudo)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'deeplabv3plus_r50-d8_voc12aug-pseudo.py'))
    bn = dict(type='BN', requires_grad=True)  # SyncBN needs a process group
    cfg.merge_from_dict({
        'model.backbone.norm_cfg': bn,
        'model.decode_head.norm_cfg': bn,
        'model.auxiliary_head.norm_cfg': bn,
        'model.data_preprocessor.size': (32, 32),
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(tiny_voc),
        'train_dataloader.dataset.data_prefix.seg_map_path': str(pseudo),
        'train_dataloader.dataset.pipeline.2.scale': (64, 32),
        'train_dataloader.dataset.pipeline.3.crop_size': (32, 32),
        'train_dataloader.dataset.pipeline.6.size': (32, 32),
        'val_dataloader.dataset.data_root': str(tiny_voc),
        'val_dataloader.dataset.data_prefix.seg_map_path':
        'SegmentationClassAug',
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 100,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 1,
    })
    cfg.work_dir = str(tmp_path / 'work')
    runner = build_runner(cfg)
    dataset = runner.train_dataloader.dataset
    item = dataset[0]
    assert item['data_samples'].gt_sem_seg.data.shape[-2:] == (32, 32)
    assert dataset.get_data_info(0)['seg_map_path'].startswith(str(pseudo))
    before = runner.model.decode_head.conv_seg.weight.detach().clone()
    runner.train()
    assert not torch.equal(before, runner.model.decode_head.conv_seg.weight)
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))
