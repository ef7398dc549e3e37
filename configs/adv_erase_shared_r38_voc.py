# Weight-sharing adversarial erasing (GAIN-style, the "previous adversarial
# erasing" of the paper's comparison): no separate adversary, the localizer
# classifies its own erased images and minimises its score on them.
_base_ = ['./adv_erase_r38_voc.py']

model = dict(adversary=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
