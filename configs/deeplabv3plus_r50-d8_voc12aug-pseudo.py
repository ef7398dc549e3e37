# The pseudo-label DeepLabV3+ with a ResNet-50-D8 backbone, for smaller
# machines: mmseg's stock R50 config is the R101 one with depth 50.
_base_ = ['./deeplabv3plus_r101-d8_voc12aug-pseudo.py']

model = dict(backbone=dict(depth=50))
