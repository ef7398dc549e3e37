# The demo's baseline CAM without its data: the localizer and schedule of
# ./adv_erase_recipe.py, trained with BCE only (alpha = 0, no adversary,
# no erasing). configs/demo/cam_demo.py is this recipe on the demo data.
_base_ = ['./adv_erase_recipe.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
# no random-walk row for the baseline (it would add ~4 min to
# tools/run_demo.py); without this line the baseline gets one too, with
# adv_erase_demo.py's settings: CAM + AffinityNet is PSA's pipeline
wsss_pipeline = dict(random_walk=None)
