# The demo's baseline CAM without its data: the localizer and schedule of
# ./adv_erase_recipe.py, trained with BCE only (alpha = 0, no adversary,
# no erasing). configs/demo/cam_demo.py is this recipe on the demo data.
_base_ = ['./adv_erase_recipe.py']

model = dict(
    adversary=None, attention_mining_loss=None, regularization_loss=None)
optim_wrapper = dict(adversary=None)  # one optimizer, the localizer's
custom_hooks = []  # nothing is erased: no erasing pictures
# no refinement rows for the baseline (they would add minutes to
# tools/run_demo.py); without this line the baseline gets them too, with
# adv_erase_demo.py's settings: CAM + AffinityNet is PSA's pipeline, CAM +
# IRN IRN's
wsss_pipeline = dict(random_walk=None, irn=None)
