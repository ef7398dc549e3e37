# PASCAL VOC 2012 with image-level labels (weak supervision): the classifier
# trains on train_aug (10,582 images) with the labels of the XML
# annotations; the masks of val are read only to evaluate.
_base_ = ['./psa_augmentation.py']
dataset_type = 'VOCImageLabelDataset'  # mmadv.datasets.voc_image_labels
data_root = 'data/VOCdevkit/VOC2012'  # holds JPEGImages, Annotations, ...

train_pipeline = [
    dict(type='LoadImageFromFile'),
    {{_base_.psa_augmentation}},
    # inputs + SegDataSample with gt_class_labels (C,)
    dict(type='PackWeakSegInputs')
]
# evaluation at the original size, with the ground-truth mask
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # gt_sem_seg, for IoUMetric only
    dict(type='CheckSegLabels', num_classes=21),  # a bad mask: named
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
