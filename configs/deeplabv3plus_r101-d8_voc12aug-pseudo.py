# Stage 2: mmseg's stock DeepLabV3+ R101-D8 (40k iterations, 512 crops,
# 4 GPUs x 4 images) trained on pseudo-labels instead of the VOC masks.
# Only what must change is changed: the training masks come from the
# pseudo-label folder (VOC-format palette PNGs from
# tools/make_pseudo_labels.py, 255 = ignore) over train_aug; validation
# stays on the real VOC val masks, scored by mmseg's IoUMetric.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py'
]
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

# written by tools/make_pseudo_labels.py; override with --cfg-options
# train_dataloader.dataset.data_prefix.seg_map_path=/abs/path (as
# tools/run_pipeline.py does)
pseudo_label_dir = 'work_dirs/adv_erase_r38_voc/pseudo_labels_train_aug'

# Nothing is downloaded: the stock config's 'open-mmlab://resnet101_v1c'
# would be. Give local ImageNet weights with
# --cfg-options model.pretrained=path/to/resnet101_v1c.pth (a missing file
# is an error naming it); None trains the backbone from scratch.
model = dict(
    pretrained=None,
    # the data set's classes (VOC: 21), filled in by mmadv.apis, so that
    # the config serves the data set of any stage-1 config
    decode_head=dict(num_classes=None),
    auxiliary_head=dict(num_classes=None))

# mmseg's stock pipelines with one addition: CheckSegLabels (mmadv) after
# LoadAnnotations refuses, naming the file, a pseudo-label or mask PNG
# that is RGB or holds a value that is no class (stock mmseg fails in the
# loss without the file's name, or leaves such pixels out of IoUMetric)
check_labels = dict(type='CheckSegLabels', num_classes=None)
crop_size = (512, 512)  # mmseg's recipe (stage 1 and AffinityNet: 448)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'), check_labels,
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'), check_labels,
    dict(type='PackSegInputs')
]

# LabelPNGDataset (mmadv): mmseg's PascalVOCDataset for any classes (the
# pipeline gives it the stage-1 data set's), VOC's when none are set
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LabelPNGDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type='LabelPNGDataset', pipeline=test_pipeline))
test_dataloader = val_dataloader

# Multi-scale + flip testing (the "ms-flip" protocols of
# mmadv.engine.seg_protocols, tools/test.py --protocol) with mmseg's own VOC
# tta_pipeline (img_ratios 0.5 ... 1.75, each view also flipped, the mean of
# the views' softmax). SegProbTTAModel is mmseg's SegTTAModel that keeps the
# merged probabilities for the CRF ("crf" protocols: DeepLab v2's VOC values,
# mmadv.models.DeepLabCRF; set crf_model = dict(type='DenseCRFSegmentor',
# crf=dict(...)) for others). (DeepLab v2 as deeplab-pytorch tests it takes
# the max of the logits at 1.0, 0.75 and 0.5 with no flip; SEAM's codebase
# the mean of the logits over the six scales and their flips.)
tta_model = dict(type='SegProbTTAModel')
