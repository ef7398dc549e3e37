# Baseline CAM: the same ResNet-38 localizer trained with BCE only
# (alpha = 0, no adversary, no erasing).
_base_ = ['./adv_erase_r38_voc.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
# nothing is erased: no erasing pictures
custom_hooks = []
