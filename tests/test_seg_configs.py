"""The stage-2 DeepLabV3+ configs inherit mmseg's stock VOC configs and
train on pseudo-label PNGs."""
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS
from test_configs import ROOT

import mmadv  # noqa: F401
from mmadv.apis import InputError, build_runner, fit_to_dataset
from mmadv.datasets import LabelPNGDataset, save_label_png

STOCK = 'deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py'


def test_r101_config_changes_only_the_training_labels(tmp_path):
    ours = Config.fromfile(
        osp.join(ROOT, 'configs', 'deeplabv3plus_r101-d8_voc12aug-pseudo.py'))
    stock_file = tmp_path / 'stock.py'  # loaded the same way, mmseg::
    stock_file.write_text(f"_base_ = ['mmseg::{STOCK}']\n")
    stock = Config.fromfile(str(stock_file))
    assert ours.model.pretrained is None  # nothing downloads
    assert stock.model.pretrained.startswith('open-mmlab://')
    # the heads' class counts are the data set's: VOC's 21
    assert ours.model.decode_head.num_classes is None
    fit_to_dataset(ours)
    ours.model.pretrained = stock.model.pretrained
    assert ours.model == stock.model
    check = dict(type='CheckSegLabels', num_classes=21, ignore_index=255)

    def with_check(pipeline):  # after LoadAnnotations, the one addition
        # (the stock steps are the same, in mmseg's scope or not)
        pipeline = [{k: v for k, v in t.items() if k != '_scope_'}
                    for t in pipeline]
        at = [t['type'] for t in pipeline].index('LoadAnnotations') + 1
        return [*pipeline[:at], check, *pipeline[at:]]

    assert ours.test_dataloader == ours.val_dataloader
    val = ours.val_dataloader.dataset
    assert val.pipeline == with_check(stock.val_dataloader.dataset.pipeline)
    val.pipeline = stock.val_dataloader.dataset.pipeline
    # mmseg's PascalVOCDataset for any classes, VOC's by default
    assert val.type == 'LabelPNGDataset'
    assert LabelPNGDataset.METAINFO is DATASETS.get(
        'PascalVOCDataset').METAINFO
    val.type = stock.val_dataloader.dataset.type
    assert ours.val_dataloader == stock.val_dataloader
    assert ours.test_evaluator == stock.test_evaluator
    assert ours.param_scheduler == stock.param_scheduler
    assert ours.train_cfg == stock.train_cfg
    train = ours.train_dataloader.dataset
    assert train.type == 'LabelPNGDataset'
    assert train.ann_file == 'ImageSets/Segmentation/train_aug.txt'
    assert train.data_prefix.seg_map_path == ours.pseudo_label_dir
    assert train.pipeline == with_check(stock.train_pipeline)
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
        'crop_size': (32, 32),  # the size the padding must follow
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(tiny_voc),
        'train_dataloader.dataset.data_prefix.seg_map_path': str(pseudo),
        'train_dataloader.dataset.pipeline.3.scale': (64, 32),
        'train_dataloader.dataset.pipeline.4.crop_size': (32, 32),
        'train_dataloader.dataset.pipeline.7.size': (32, 32),
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


def test_a_bad_pseudo_label_is_named_in_training(tiny_voc, tmp_path):
    """A pseudo-label PNG with a value that is no class used to stop the
    training with 'Target 30 is out of bounds' and no file name."""
    pseudo = tmp_path / 'pseudo'
    shutil.copytree(tiny_voc / 'SegmentationClassAug', pseudo)
    bad = sorted(pseudo.iterdir())[0]
    save_label_png(str(bad), np.full((48, 64), 30, np.uint8))
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs', 'demo', 'deeplabv3plus_test-resnet_demo-pseudo.py'))
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(tiny_voc),
        'train_dataloader.dataset.data_prefix.seg_map_path': str(pseudo),
    })
    dataset = DATASETS.build(fit_to_dataset(cfg).train_dataloader.dataset)
    index = [dataset.get_data_info(i)['seg_map_path']
             for i in range(len(dataset))].index(str(bad))
    with pytest.raises(InputError, match=f'^{bad}: values \\[30\\] are not '
                       'classes 0..20 or 255$'):
        dataset[index]
