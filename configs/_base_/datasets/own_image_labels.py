# A template for your own data set with image-level labels: copy it, set
# data_root, the classes and the label source, and list the copy with a
# method in a config of two lines, e.g.
#   _base_ = ['../demo/_base_/adv_erase_recipe.py', './my_data.py']
# (docs/own_data.md, "Bring your own data", and its recipe;
# configs/demo/_base_/toy_objects.py is a copy for the procedural
# toy_objects set). Every stage reads the classes from here: the
# localizer's scores, the maps, the pseudo-labels and their palette,
# DeepLabV3+'s num_classes and AffinityNet's labels.
#
# The layout is VOC's, under data_root:
#   JPEGImages/<name>.jpg                  the images
#   ImageSets/Segmentation/<split>.txt     one <name> per line, per split
#   and the image labels, one of (label_source):
#   Annotations/<name>.xml                 'xml': VOC's <object><name>
#   a .json {name: [class names]}, a .csv (name,class names) or a .npy
#   {name: multi-hot (C,)} file            'file' (labels_file)
#   SegmentationClass/<name>.png           'mask': the classes present
# Masks (label l = classes[l], 255 ignored) are read only to evaluate; the
# pipeline's threshold_rule chooses the background threshold without them
# (docs/pipeline.md, "The background threshold without training masks").
dataset_type = 'ImageLabelDataset'  # mmadv: any classes
data_root = 'data/my_data'
# background first; one [r, g, b] per class for the label PNGs and figures
# (left out: mmseg's generated colours)
metainfo = dict(
    classes=('background', 'cat', 'dog'),
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0]])
crop_size = (448, 448)  # training crops; the padding size follows it

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=(768, 768),
        ratio_range=(448 / 768, 1.0),
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs')  # inputs + gt_class_labels (C,)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the masks, for evaluation only
    # the data set's classes (filled in by mmadv.apis); a bad mask: named
    dict(type='CheckSegLabels', num_classes=None),
    dict(type='PackWeakSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        # the pipeline's splits are wsss_pipeline's train_split and
        # eval_split (train_aug and val unless set)
        ann_file='ImageSets/Segmentation/train_aug.txt',
        label_source='xml',  # or 'file' (with labels_file=...) or 'mask'
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,  # images of different sizes: one at a time
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        label_source='xml',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
