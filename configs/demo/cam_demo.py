# Baseline CAM on the demo: the same localizer, data and schedule, trained
# with BCE only (alpha = 0, no adversary, no erasing).
_base_ = ['./adv_erase_demo.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
# no random-walk row for the baseline (it would add ~4 min to
# tools/run_demo.py); without this line the baseline gets one too, with
# adv_erase_demo.py's settings: CAM + AffinityNet is PSA's pipeline
wsss_pipeline = dict(random_walk=None)
