"""mmseg's own models import and train with mmcv-lite and mmadv.compat."""
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmadv  # noqa: F401

STOCK_VOC_CFG = ('deeplabv3plus/'
                 'deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py')


def test_import_prints_no_traceback():
    result = subprocess.run(
        [sys.executable, '-c', 'import mmadv, mmseg.models'],
        capture_output=True, text=True, check=True)
    assert 'Traceback' not in result.stderr
    assert 'Warning' not in result.stderr


def test_stock_deeplabv3plus_forward_backward_on_cpu(tmp_path):
    cfg_file = tmp_path / 'deeplab.py'
    cfg_file.write_text(
        f"_base_ = ['mmseg::{STOCK_VOC_CFG}']\n"
        "norm_cfg = dict(type='BN', requires_grad=True)\n"
        'model = dict(pretrained=None,\n'
        '    data_preprocessor=dict(size=(64, 64)),\n'
        '    backbone=dict(norm_cfg=norm_cfg),\n'
        '    decode_head=dict(norm_cfg=norm_cfg),\n'
        '    auxiliary_head=dict(norm_cfg=norm_cfg))\n')
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.backbone.depth == 50
    model = MODELS.build(cfg.model)
    model.train()
    torch.manual_seed(0)
    images = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
              for _ in range(2)]
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 21, (1, 64, 64), dtype=torch.long))
        sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64),
                                 pad_shape=(64, 64)))
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples),
                                   training=True)
    losses = model(**data, mode='loss')
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('decode.loss')
                or k.startswith('aux.loss'))
    assert torch.isfinite(total)
    total.backward()
    head_grad = model.decode_head.conv_seg.weight.grad
    assert head_grad is not None and head_grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        logits = model(data['inputs'], mode='tensor')
    assert logits.shape == (2, 21, 16, 16)
