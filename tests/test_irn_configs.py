"""The IRN configs: the VOC config against IRN's values (run_sample.py,
train_irn.py, resnet50_irn.py, voc12/dataloader.py), trained on the tiny
VOC tree with its masks as relation labels (the frozen backbone left as it
was, the boundary branch moved), and the demo config's departures."""
import os.path as osp

import torch
from mmengine.config import Config

import mmadv  # noqa: F401
from mmadv.apis import IRNSettings, build_runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VOC = osp.join(ROOT, 'configs', 'irn_r50_voc.py')


def test_voc_config_is_irns_recipe():
    cfg = Config.fromfile(VOC)
    model = cfg.model
    assert model.type == 'IRNet'
    assert (model.backbone.model_name, model.backbone.output_stride,
            tuple(model.backbone.out_indices)) == ('resnet50', 16,
                                                   (0, 1, 2, 3, 4))
    assert model.backbone.checkpoint == \
        'data/pretrained/resnet50-19c8e357.pth'
    assert (model.out_level, model.level_channels, model.norm_groups,
            model.radius, model.pair_rule, model.freeze_backbone) == (
                1, 32, 4, 10, 'psa', True)
    assert model.loss.type == 'AffinityLoss'
    assert cfg.crop_size == (512, 512)
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_iters == 990 == (10582 // 32) * 3
    assert dict(cfg.optim_wrapper.optimizer) == dict(
        type='SGD', lr=0.1, momentum=1e-4, weight_decay=1e-4)
    poly = cfg.param_scheduler[0]
    assert (poly.type, poly.power, poly.end) == ('PolyLR', 0.9, 990)
    steps = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert tuple(steps['RandomResize'].ratio_range) == (0.5, 1.5)
    assert steps['RandomResize'].interpolation == 'bicubic'
    assert steps['RandomFlip'].prob == 0.5
    assert tuple(steps['RandomCrop'].crop_size) == (512, 512)
    # the walk and the labels: IRN's run_sample.py defaults
    assert (IRNSettings.default('conf_thres'), IRNSettings.default('beta'),
            IRNSettings.default('logt'), IRNSettings.default('radius'),
            IRNSettings.default('flip')) == ((0.30, 0.05), 10, 8, 5, True)


def test_voc_config_trains_the_boundary_branch_only(tiny_voc, tmp_path):
    cfg = Config.fromfile(VOC)
    cfg.merge_from_dict({
        'model.backbone.checkpoint': None,  # no ImageNet weights here
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(tiny_voc),
        # the masks stand in for relation labels
        'train_dataloader.dataset.data_prefix.seg_map_path':
        'SegmentationClassAug',
        'train_dataloader.dataset.pipeline.3.scale': (64, 64),
        'train_dataloader.dataset.pipeline.5.crop_size': (64, 64),
        'crop_size': (64, 64),
        'train_cfg.max_iters': 2,
        'param_scheduler.0.end': 2,
        'default_hooks.checkpoint.interval': 2,
        'randomness.seed': 0,
        'work_dir': str(tmp_path),
    })
    cfg.launcher = 'none'
    runner = build_runner(cfg)
    model = runner.model
    assert model.data_preprocessor.size == (64, 64)  # from crop_size
    assert [c[0].in_channels for c in model.level_convs] == \
        [64, 256, 512, 1024, 2048]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    runner.train()
    after = model.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert 'boundary_conv.weight' in moved
    assert not any(k.startswith('backbone.') for k in moved)
    assert osp.isfile(osp.join(tmp_path, 'iter_2.pth'))


def test_demo_config_departs_where_it_says():
    demo = Config.fromfile(osp.join(ROOT, 'configs', 'demo', 'irn_demo.py'))
    voc = Config.fromfile(VOC).model
    model = demo.model
    assert model.backbone.model_name == 'test_resnet'
    assert 'checkpoint' not in model.backbone
    changed = {
        key: (voc[key], model[key])
        for key in ('out_level', 'level_channels', 'norm_groups', 'radius',
                    'pair_rule', 'freeze_backbone', 'loss')
        if voc[key] != model[key]
    }
    assert changed == dict(out_level=(1, 0), radius=(10, 5),
                           pair_rule=('psa', 'all'),
                           freeze_backbone=(True, False))
