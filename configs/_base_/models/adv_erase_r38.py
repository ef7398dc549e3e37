# End-to-end adversarial erasing (Stammes et al., arXiv 2011.04626):
# ResNet-38 localizer, resnet18-size adversary.
#
# ImageNet weights are never downloaded. Convert the MXNet file PSA/SEAM
# use (ilsvrc-cls_rna-a1_cls1000_ep-0001.params) once with
#   python tools/model_converters/convert_r38_weights.py \
#       ilsvrc-cls_rna-a1_cls1000_ep-0001.params data/pretrained/resnet38d.pth
# A missing file stops training with an error naming it; train from random
# weights with --cfg-options model.localizer.backbone.init_cfg=None.
_base_ = ['./data_preprocessor.py']
r38_checkpoint = 'data/pretrained/resnet38d.pth'

model = dict(
    type='AdversarialErasingClassifier',
    localizer=dict(
        type='MultiLabelClassifier',
        # PSA/SEAM's wide ResNet-38, output stride 8, 4096 channels; BN and
        # the stem frozen as PSA does
        backbone=dict(
            type='ResNet38d',
            # PSA's resnet38_cls.py: Dropout2d(0.5) (dropout7) before fc8
            feature_dropout=0.5,
            init_cfg=dict(type='Pretrained', checkpoint=r38_checkpoint)),
        head=dict(type='CAMHead', num_classes=20)),
    # classifies the erased images; resnet18 from timm (random init; give
    # local ImageNet weights with checkpoint='path/to/resnet18.pth')
    adversary=dict(
        type='MultiLabelClassifier',
        backbone=dict(type='TimmFeatureBackbone', model_name='resnet18'),
        head=dict(type='CAMHead', num_classes=20)),
    # soft mask M = sigmoid(omega (A - sigma))
    eraser_head=dict(type='EraserHead', omega=100.0, sigma=0.5),
    # alpha: weight of the adversary's score on erased images
    attention_mining_loss=dict(type='AttentionMiningLoss', loss_weight=0.05),
    # beta: weight of the mean attention (area) penalty
    regularization_loss=dict(
        type='AttentionRegularizationLoss', loss_weight=1e-5),
    # EADER's Grad-CAM weights are constants to L_am and L_reg
    # (attention_map_wrapper.py: backward without create_graph)
    train_cam_weights=False,
    localizer_iters=200,  # localizer block, trained first
    adversary_iters=200,  # then the adversary block, and so on
    simultaneous=False,  # True: both networks every iteration
    bg_threshold=0.25)  # background score of the CAM segmentation

# Two networks, two optimizers: the default MMDistributedDataParallel never
# calls the model's own train_step, the separate wrapper wraps each child
# (localizer, adversary) in its own DDP and calls train_step.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
