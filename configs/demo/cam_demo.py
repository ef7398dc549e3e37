# Baseline CAM on the procedural demo: the demo's CAM recipe
# (./_base_/cam_recipe.py) on the demo data set (./_base_/demo_shapes.py).
_base_ = ['./_base_/cam_recipe.py', './_base_/demo_shapes.py']
