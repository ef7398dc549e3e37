# The authors' weight-sharing variant (train.py --share_weights, no
# --adversarial_model): the localizer classifies its own erased images,
# localizer(masked_image, compute_gradcam=False), and L_am is the mean of
# those raw logits of the erased classes (compute_am_loss on logits, not
# sigmoid scores).
_base_ = ['./adv_erase_r101_voc.py']

model = dict(
    adversary=None,
    attention_mining_loss=dict(use_sigmoid=False))
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
