# The procedural demo data set (mmadv.datasets.demo_shapes): 64 x 64
# "shape animals" of 5 VOC classes (bird, cat, cow, dog, sheep) in VOC
# layout and VOC labels, image labels from the XML annotations, masks in
# SegmentationClass for evaluation only. tools/run_demo.py makes it; or
#   python -m mmadv.datasets.demo_shapes data/demo_shapes --seed 0
dataset_type = 'VOCImageLabelDataset'  # read as VOC: 20 classes
data_root = 'data/demo_shapes'  # holds JPEGImages, Annotations, ...
crop_size = (64, 64)  # (h, w): the images' own size, no crops

# No flips or colour jitter: the class evidence is a colour (the part) and
# a stripe orientation (the body), which both would change.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackWeakSegInputs')  # inputs + gt_class_labels (C,)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # gt_sem_seg, for IoUMetric only
    dict(type='PackWeakSegInputs')
]

train_dataloader = dict(
    batch_size=16,
    # 64 x 64 images load in microseconds: no loader processes, so that
    # both CPU cores go to the networks
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train_aug.txt',  # 1,600 images
        label_source='xml',  # labels from Annotations/<name>.xml
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,  # all images are 64 x 64
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),  # each image once
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',  # 200 images
        label_source='xml',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])  # 6 classes
test_evaluator = val_evaluator
