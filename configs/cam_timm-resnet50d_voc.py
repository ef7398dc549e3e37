# Baseline CAM of the timm ResNet-50-D localizer: BCE only (no adversary,
# no erasing), as configs/cam_r38_voc.py is for ResNet-38.
_base_ = ['./adv_erase_timm-resnet50d_voc.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
