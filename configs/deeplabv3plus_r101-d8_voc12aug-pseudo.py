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
model = dict(pretrained=None)

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline={{_base_.train_pipeline}}))
