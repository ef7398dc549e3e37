# Stage 2 on the demo: mmseg's stock DeepLabV3+ model (ASPP + low-level
# decoder, DepthwiseSeparableASPPHead) sized for 64 x 64 images and a
# CPU: timm's tiny 'test_resnet' from scratch (output stride 8) instead of
# ResNet-50, trained on the demo pseudo-labels, tested on the demo's real
# val masks by mmseg's IoUMetric. The pipeline sets the pseudo-label folder
# and the data root.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    './_base_/demo_shapes_masks.py', './_base_/demo_schedule.py',
    '../_base_/default_runtime.py'
]

norm_cfg = dict(type='BN', requires_grad=True)  # one process, no SyncBN
model = dict(
    pretrained=None,  # nothing downloaded; from scratch
    data_preprocessor=dict(size_divisor=1),  # the images' own size
    # levels 1 (stride 4, 32 channels: the decoder's low-level input) and
    # 4 (stride 8, 96 channels: the ASPP input)
    backbone=dict(
        _delete_=True,
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8,
        out_indices=(1, 4)),
    decode_head=dict(
        in_channels=96,
        in_index=1,
        channels=64,
        dilations=(1, 2, 4, 6),  # the 8 x 8 features of 64 x 64 images
        c1_in_channels=32,
        c1_channels=16,
        num_classes=None,  # the data set's (the demo: VOC's 21)
        norm_cfg=norm_cfg),
    auxiliary_head=None)

train_dataloader = dict(dataset=dict(data_prefix=dict(
    seg_map_path='work_dirs/demo/adv_erase_demo/pseudo_labels_train_aug')))
default_hooks = dict(
    checkpoint=dict(
        interval={{_base_.checkpoint_interval}}, max_keep_ckpts=1))

# Multi-scale + flip testing (the "ms-flip" protocols of
# mmadv.engine.seg_protocols): mmseg 1.x's VOC recipe (its
# configs/_base_/datasets/pascal_voc12.py: the image at 0.5 ... 1.75 of its
# size, each view also flipped, the mean of the views' softmax) with this
# config's test transforms. SegProbTTAModel is mmseg's SegTTAModel that
# keeps the merged probabilities for the CRF ("crf" protocols: DeepLab v2's
# VOC values, mmadv.models.DeepLabCRF). The flip is kept although the
# demo's stripes tell classes apart by orientation: the demo shows what the
# recipe does, it is not tuned to it.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_model = dict(type='SegProbTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='CheckSegLabels', num_classes=None)],
            [dict(type='PackSegInputs')],
        ])
]
