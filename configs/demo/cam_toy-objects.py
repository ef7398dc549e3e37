# Baseline CAM on the toy_objects data set: only the data set config
# differs from configs/demo/cam_demo.py.
_base_ = ['./_base_/cam_recipe.py', './_base_/toy_objects.py']
