# PASCAL VOC 2012 with image-level labels (weak supervision): the classifier
# trains on train_aug (10,582 images) with the labels of the XML
# annotations; the masks of val are read only to evaluate.
dataset_type = 'VOCImageLabelDataset'  # mmadv.datasets.voc_image_labels
data_root = 'data/VOCdevkit/VOC2012'  # holds JPEGImages, Annotations, ...
crop_size = (448, 448)  # (h, w) of training crops, as PSA and SEAM

# PSA/SEAM augmentation from stock mmseg transforms. Crops smaller than
# crop_size (an image resized below 448 on its short side) are padded to
# crop_size by the model's SegDataPreProcessor(size=crop_size, pad_val=0,
# seg_pad_val=255), not here.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # long side uniform in [448, 768], aspect kept (PSA's RandomResizeLong)
    dict(
        type='RandomResize',
        scale=(768, 768),
        ratio_range=(448 / 768, 1.0),
        keep_ratio=True),
    # horizontal flip with probability 0.5
    dict(type='RandomFlip', prob=0.5),
    # close to PSA's ColorJitter(0.3, 0.3, 0.3, 0.1), but each step is
    # applied with probability 0.5
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=38,  # additive; 0.3 x 127.5 for the 0.7-1.3 gain
        contrast_range=(0.7, 1.3),  # ColorJitter contrast=0.3
        saturation_range=(0.7, 1.3),  # ColorJitter saturation=0.3
        hue_delta=18),  # ColorJitter hue=0.1 of 180 OpenCV hue units
    # random crop_size window (cat_max_ratio=1.0 needs no seg map)
    dict(type='RandomCrop', crop_size=crop_size),
    # inputs + SegDataSample with gt_class_labels (C,)
    dict(type='PackWeakSegInputs')
]
# evaluation at the original size, with the ground-truth mask
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # gt_sem_seg, for IoUMetric only
    dict(type='PackWeakSegInputs')
]

train_dataloader = dict(
    batch_size=8,  # images per GPU
    num_workers=4,  # loader processes per GPU
    persistent_workers=True,  # keep the workers between epochs
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # SegmentationClassAug (SBD) masks, read only if a metric asks
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        ann_file='ImageSets/Segmentation/train_aug.txt',  # image list
        label_source='xml',  # labels from Annotations/<name>.xml
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,  # images differ in size: one at a time
    num_workers=4,  # loader processes per GPU
    persistent_workers=True,  # keep the workers between evaluations
    sampler=dict(type='DefaultSampler', shuffle=False),  # each image once
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # the official VOC 2012 val masks
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',  # 1,449 images
        label_source='xml',  # labels from Annotations/<name>.xml
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])  # 21 classes
test_evaluator = val_evaluator
