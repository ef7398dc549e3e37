# The full method with a timm ConvNeXt-T localizer (output stride 16 by
# dilating the last stage): the backbone swap is this one line.
_base_ = ['./adv_erase_r38_voc.py']

model = dict(localizer=dict(backbone=dict(
    _delete_=True, type='TimmFeatureBackbone', model_name='convnext_tiny',
    output_stride=16)))
