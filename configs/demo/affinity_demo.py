# AffinityNet (PSA) on the demo, for the random-walk refinement of the
# demo maps: timm's tiny 'test_resnet' from scratch, trained on the affinity
# labels that tools/make_pseudo_labels.py --affinity writes
# (tools/run_pipeline.py sets their folder and the data root; the walk's
# settings are adv_erase_demo.py's wsss_pipeline.random_walk).
# Departures from PSA, for 64 x 64 images whose objects are 10-25 px:
# - the embedding is at output stride 2 (a 32 x 32 grid; PSA: 8, a
#   56 x 56 grid at 448 px): levels 0 (stride 2), 2 and 4 (stride 8,
#   upsampled). At stride 8 the 8 x 8 grid is coarser than the objects:
#   with the same labels the walk lowered the maps' val mIoU (64.0 -> 58.5
#   at its best, 48.3 at the demo's 16 steps);
# - 64 embedding channels (PSA: 448), 5x faster to train at this grid on
#   a CPU (0.22 vs 1.13 s per batch of 16).
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

data_root = 'data/demo_shapes'
# written by tools/make_pseudo_labels.py --affinity; override with
# --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=/abs/path
affinity_label_dir = 'work_dirs/demo/adv_erase_demo/affinity_labels_train_aug'
max_iters = 400

model = dict(
    type='AffinityNet',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size=(64, 64),
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8,
        out_indices=(0, 2, 4)),  # strides 2, 8, 8: a stride-2 embedding
    feature_channels=(64, 128, 256),  # PSA's
    embed_channels=64,  # PSA: 448
    radius=5,  # PSA's, in embedding pixels (10 px of the image here)
    # PSA's released code (mean over channels); the default 'sum' (the
    # paper's L1 norm) leaves no gradient from a random start
    distance='mean',
    loss=dict(type='AffinityLoss'))

# no flips or colour jitter: the demo's cues are a colour and a stripe
# orientation
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the affinity label, 255 unknown
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # 64 x 64 images: both cores to the network
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
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters,
        max_keep_ckpts=1))
randomness = dict(seed=0)
