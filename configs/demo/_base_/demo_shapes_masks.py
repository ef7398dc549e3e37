# The procedural demo data set (demo_shapes.py) as images and label PNGs:
# training labels from a folder of label PNGs (pseudo-labels or affinity
# labels; the pipeline sets it), testing on the real masks. The pipeline
# also sets the data root and the classes (metainfo) to those of the
# stage-1 data set, so the segmentation and AffinityNet configs serve any
# data set of the demo recipe; LabelPNGDataset (mmadv) is mmseg's
# PascalVOCDataset for any classes, VOC's when none are set.
# No flips or colour jitter: the demo's class evidence is a colour and a
# stripe orientation, which both would change.
data_root = 'data/demo_shapes'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the label PNG, 255 ignored
    # a PNG that is RGB or holds a value that is no class: named (mmadv)
    dict(type='CheckSegLabels', num_classes=None),  # the data set's
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,  # 64 x 64 images: both cores to the network
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=None),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
