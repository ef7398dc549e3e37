# The full method on PASCAL VOC 2012: ResNet-38 localizer, resnet18
# adversary, train_aug with image labels, 448 crops, reference
# hyperparameters (alpha 0.05, beta 1e-5, omega 100, sigma 0.5, 200/200
# alternation). Validation: CAM mIoU on VOC val with mmseg's IoUMetric.
_base_ = [
    '_base_/models/adv_erase_r38.py', '_base_/datasets/voc12_image_labels.py',
    '_base_/schedules/adv_erase_poly_10k.py', '_base_/default_runtime.py'
]
