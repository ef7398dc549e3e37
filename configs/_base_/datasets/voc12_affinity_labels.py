# PASCAL VOC 2012 train_aug with AffinityNet's training labels (confident
# foreground and background of the maps, 255 unknown), written by the
# pipeline or tools/make_pseudo_labels.py --affinity; the pipeline sets
# their folder, or --cfg-options
# train_dataloader.dataset.data_prefix.seg_map_path=/abs/path.
_base_ = ['./psa_augmentation.py']
data_root = 'data/VOCdevkit/VOC2012'
affinity_label_dir = 'work_dirs/adv_erase_r38_voc/affinity_labels_train_aug'

# PSA's augmentation, as the classifier's data
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # the affinity label, 255 unknown
    # the data set's count (VOC: 21; filled in by mmadv.apis); a bad label:
    # named
    dict(type='CheckSegLabels', num_classes=None),
    {{_base_.psa_augmentation}},
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # LabelPNGDataset (mmadv): mmseg's PascalVOCDataset for any classes
    # (the pipeline gives it the stage-1 data set's), VOC's when none are set
    dataset=dict(
        type='LabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path=affinity_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
