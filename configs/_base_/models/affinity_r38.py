# AffinityNet (PSA, Ahn and Kwak, CVPR 2018) on ResNet-38: PSA's embedding
# (conv4, conv5, conv6 -> 64, 128, 256 -> 448 channels), radius 5 at
# output stride 8, from the ImageNet weights (see adv_erase_r38.py for the
# weights file).
_base_ = ['./data_preprocessor.py']
r38_checkpoint = 'data/pretrained/resnet38d.pth'

model = dict(
    type='AffinityNet',
    backbone=dict(
        type='ResNet38d',
        out_indices=(2, 3, 5),  # PSA's conv4, conv5, conv6
        init_cfg=dict(type='Pretrained', checkpoint=r38_checkpoint)),
    feature_channels=(64, 128, 256),
    embed_channels=448,
    radius=5,
    # PSA's pairs (get_indices_of_pairs, ExtractAffinityLabelInRadius):
    # sources 4 pixels off the left, right and bottom edges
    pair_rule='psa',
    # PSA's released code: mean over channels; the default 'sum' (the
    # paper's L1 norm) makes every affinity 0 at initialisation (448
    # channels) and trains nothing
    distance='mean',
    loss=dict(type='AffinityLoss'))
