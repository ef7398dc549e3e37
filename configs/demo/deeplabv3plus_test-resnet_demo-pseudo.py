# Stage 2 on the demo: mmseg's stock DeepLabV3+ model (ASPP + low-level
# decoder, DepthwiseSeparableASPPHead) sized for 64 x 64 images and a
# CPU: timm's tiny 'test_resnet' from scratch (output stride 8) instead of
# ResNet-50, trained on the demo pseudo-labels, tested on the demo's real
# val masks by mmseg's IoUMetric. tools/run_pipeline.py sets the
# pseudo-label folder and the data root.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

data_root = 'data/demo_shapes'
# written by tools/make_pseudo_labels.py; override with --cfg-options
# train_dataloader.dataset.data_prefix.seg_map_path=/abs/path (as
# tools/run_pipeline.py does)
pseudo_label_dir = 'work_dirs/demo/adv_erase_demo/pseudo_labels_train_aug'
max_iters = 400

norm_cfg = dict(type='BN', requires_grad=True)  # one process, no SyncBN
model = dict(
    pretrained=None,  # nothing downloaded; from scratch
    data_preprocessor=dict(size=(64, 64)),
    # levels 1 (stride 4, 32 channels: the decoder's low-level input) and
    # 4 (stride 8, 96 channels: the ASPP input)
    backbone=dict(
        _delete_=True,
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8,
        out_indices=(1, 4)),
    decode_head=dict(
        in_channels=96,
        in_index=1,
        channels=64,
        dilations=(1, 2, 4, 6),  # the 8 x 8 features of 64 x 64 images
        c1_in_channels=32,
        c1_channels=16,
        num_classes=21,  # VOC's labels; the demo uses 6 of them
        norm_cfg=norm_cfg),
    auxiliary_head=None)

# No flips or colour jitter: the demo's class evidence is a colour and a
# stripe orientation, which both would change.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the pseudo-label, 255 ignored
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the real mask
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # 64 x 64 images: both cores to the network
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters,
        max_keep_ckpts=1))
randomness = dict(seed=0)
