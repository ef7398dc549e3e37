# IRNet's class-boundary branch (IRN, Ahn, Cho and Kwak, CVPR 2019;
# net/resnet50_irn.py of github jiwoon-ahn/irn) on ResNet-50 from
# torchvision's ImageNet weights (IRN's resnet50-19c8e357.pth; put the
# file at the path below, as for configs/eader/), its backbone frozen.
_base_ = ['./data_preprocessor.py']
r50_checkpoint = 'data/pretrained/resnet50-19c8e357.pth'

model = dict(
    type='IRNet',
    backbone=dict(
        type='TimmFeatureBackbone',
        model_name='resnet50',  # torchvision's network and parameter names
        checkpoint=r50_checkpoint,
        # IRN: strides (2, 2, 2, 1), layer4 at stride 16 without dilation;
        # timm's output_stride=16 dilates layer4 by 2
        output_stride=16,
        # IRN's x1..x5: the stem (timm's before the max pool, stride 2;
        # IRN's after it, stride 4) and layer1..layer4
        out_indices=(0, 1, 2, 3, 4)),
    out_level=1,  # B at stride 4 (layer1's size), IRN's edge map
    level_channels=32,  # IRN's fc_edge1..5: 1x1 conv to 32, GroupNorm(4)
    norm_groups=4,
    radius=10,  # IRN's train_irn.py PathIndex(radius=10)
    pair_rule='psa',  # IRN's PathIndex source window
    freeze_backbone=True,  # IRN trains the edge layers only
    loss=dict(type='AffinityLoss'))  # train_irn.py: (bg/2 + fg/2 + neg)/2
