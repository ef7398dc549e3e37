# The demo recipe on another data set: only the data set config differs
# from configs/demo/adv_erase_demo.py. toy_objects has 3 classes of its
# own and 96 px images; the classes and the image size reach every stage
# (maps, pseudo-labels, DeepLabV3+, AffinityNet) from the data set config.
_base_ = ['./_base_/adv_erase_recipe.py', './_base_/toy_objects.py']
