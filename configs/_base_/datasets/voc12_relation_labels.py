# PASCAL VOC 2012 train_aug with IRN's relation labels (confident
# foreground and background of the maps, 255 unknown), written by the
# pipeline (irn setting) or tools/make_pseudo_labels.py --relation; the
# pipeline sets their folder, or --cfg-options
# train_dataloader.dataset.data_prefix.seg_map_path=/abs/path.
# IRN's augmentation (voc12/dataloader.py VOC12AffinityDataset, as
# train_irn.py builds it) from stock mmseg transforms.
data_root = 'data/VOCdevkit/VOC2012'
relation_label_dir = 'work_dirs/adv_erase_r38_voc/relation_labels_train_aug'
crop_size = (512, 512)  # IRN's irn_crop_size

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the relation label, 255 unknown
    # the data set's count (VOC: 21; filled in by mmadv.apis)
    dict(type='CheckSegLabels', num_classes=None),
    # IRN's random_scale((0.5, 1.5)) of the image's own size, cubic for
    # the image and nearest for the label; scale 500 is VOC's long side,
    # so most images get IRN's factor
    dict(
        type='RandomResize',
        scale=(500, 500),
        ratio_range=(0.5, 1.5),
        keep_ratio=True,
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),  # IRN's random_lr_flip
    # IRN's random_crop; smaller crops are padded to crop_size by the
    # model's SegDataPreProcessor (0 after normalisation and label 255, as
    # IRN pads)
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=32,  # IRN's irn_batch_size
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path=relation_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
