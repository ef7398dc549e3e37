# The procedural demo data set (demo_shapes.py) as mmseg's VOC data with
# masks: training labels from a folder of label PNGs (pseudo-labels or
# affinity labels; the pipeline sets it), testing on the real masks.
# No flips or colour jitter: the demo's class evidence is a colour and a
# stripe orientation, which both would change.
data_root = 'data/demo_shapes'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the label PNG, 255 ignored
    # a PNG that is RGB or holds a value that is no class: named (mmadv)
    dict(type='CheckSegLabels', num_classes=21),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # 64 x 64 images: both cores to the network
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=None),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=pipeline))
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
        pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
