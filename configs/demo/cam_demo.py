# Baseline CAM on the demo: the same localizer, data and schedule, trained
# with BCE only (alpha = 0, no adversary, no erasing).
_base_ = ['./adv_erase_demo.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
