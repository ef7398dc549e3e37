# AffinityNet (PSA, Ahn and Kwak, CVPR 2018) on PASCAL VOC 2012, for the
# random-walk refinement of the adversarial erasing maps (the paper's
# 62.8 val mIoU pipeline): ResNet-38 from the ImageNet weights, PSA's
# embedding (conv4, conv5, conv6 -> 64, 128, 256 -> 448), radius 5 at
# output stride 8, trained on the affinity labels of
#   python tools/make_pseudo_labels.py MAPS --affinity 4 32 --crf ...
# with PSA's schedule (batch 8, 8 epochs of train_aug, SGD lr 0.1, weight
# decay 1e-4, 10x on the new layers, poly decay). Then
#   python tools/infer_random_walk.py configs/affinity_r38_voc.py CKPT MAPS
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

data_root = 'data/VOCdevkit/VOC2012'
# written by tools/make_pseudo_labels.py --affinity; override with
# --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=/abs/path
affinity_label_dir = 'work_dirs/adv_erase_r38_voc/affinity_labels_train_aug'
r38_checkpoint = 'data/pretrained/resnet38d.pth'  # tools/convert_r38_weights
crop_size = (448, 448)
max_iters = 10600  # 10,582 / 8 x 8 epochs

model = dict(
    type='AffinityNet',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size=crop_size,
        pad_val=0,
        seg_pad_val=255),  # padding is unknown, as PSA's
    backbone=dict(
        type='ResNet38d',
        out_indices=(2, 3, 5),  # PSA's conv4, conv5, conv6
        init_cfg=dict(type='Pretrained', checkpoint=r38_checkpoint)),
    feature_channels=(64, 128, 256),
    embed_channels=448,
    radius=5,
    # PSA's released code: mean over channels; the default 'sum' (the
    # paper's L1 norm) makes every affinity 0 at initialisation (448
    # channels) and trains nothing
    distance='mean',
    loss=dict(type='AffinityLoss'))

# PSA's augmentation from stock mmseg transforms (as the stage-1 data)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the affinity label, 255 unknown
    dict(
        type='RandomResize',
        scale=(768, 768),
        ratio_range=(448 / 768, 1.0),
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=38,
        contrast_range=(0.7, 1.3),
        saturation_range=(0.7, 1.3),
        hue_delta=18),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path=affinity_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    # PSA: 10x on the new layers
    paramwise_cfg=dict(
        custom_keys=dict(
            level_convs=dict(lr_mult=10.0), embed_conv=dict(lr_mult=10.0))))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=3))
