# The full method on MS COCO 2014 (80 classes): the VOC recipe
# (configs/adv_erase_r38_voc.py: ResNet-38 localizer, resnet18 adversary,
# 448 crops, alpha 0.05, beta 1e-5) on the converted COCO tree
# (configs/_base_/datasets/coco14_image_labels.py); the pipeline's maps,
# pseudo-labels (81 labels) and DeepLabV3+ (deeplabv3plus_r101-d8_coco14-
# pseudo.py) follow. The schedule is VOC's: EADER reports no COCO run, and
# COCO's 82k training images make 10k iterations of 8 about one epoch.
_base_ = [
    '_base_/models/adv_erase_r38.py',
    '_base_/datasets/coco14_image_labels.py',
    '_base_/schedules/adv_erase_poly_10k.py', '_base_/default_runtime.py'
]
model = dict(
    # the data set's 80 classes (the model base says VOC's 20)
    localizer=dict(head=dict(num_classes=None)),
    adversary=dict(head=dict(num_classes=None)))

wsss_pipeline = dict(
    seg_config='configs/deeplabv3plus_r101-d8_coco14-pseudo.py',
    train_split='train',
    eval_split='val',
    train_gt_dir='SegmentationClass',  # the converter's masks of both
    eval_gt_dir='SegmentationClass')
