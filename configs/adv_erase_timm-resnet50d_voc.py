# The full method with a timm ResNet-50-D localizer at output stride 8:
# the backbone swap is this one line (CAMHead reads in_channels from it).
_base_ = ['./adv_erase_r38_voc.py']

model = dict(localizer=dict(backbone=dict(
    _delete_=True, type='TimmFeatureBackbone', model_name='resnet50d',
    output_stride=8)))
