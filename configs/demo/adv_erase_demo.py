# The full method on the procedural demo: the demo recipe
# (./_base_/adv_erase_recipe.py) on the demo data set
# (./_base_/demo_shapes.py, 64 x 64 "shape animals" of 5 VOC classes).
_base_ = ['./_base_/adv_erase_recipe.py', './_base_/demo_shapes.py']
