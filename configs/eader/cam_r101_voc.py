# The authors' localizer-only baseline ("Localizer only (no adversarial
# erasing)" of EADER's README: train.py without --adversarial_model): the
# same ResNet-101 trained with BCE + beta L_reg (train.py adds
# beta * compute_regularization_loss whenever --beta > 0), nothing erased.
_base_ = ['./adv_erase_r101_voc.py']

model = dict(adversary=None, attention_mining_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
