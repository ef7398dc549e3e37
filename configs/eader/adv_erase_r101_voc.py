# The authors' recipe (github ErikStammes/EADER, "Localizer +
# adversarial" of its README): ResNet-101 localizer, ResNet-18 adversary,
# both from ImageNet weights, on VOC 2012 train_aug. Each value names the
# file and argument of EADER's code it comes from; mmadv's own VOC configs
# (configs/adv_erase_r38_voc.py) follow PSA/SEAM instead, and the "Method
# knobs" table of docs/configs.md lists every difference.
#
# ImageNet weights are never downloaded: put torchvision's files (the URLs
# of EADER's models/load_models.py MODEL_URLS) at the two paths below; a
# missing file stops training with an error naming it.
_base_ = [
    '../_base_/models/data_preprocessor.py',
    '../_base_/datasets/voc12_image_labels.py',
    '../_base_/default_runtime.py'
]
localizer_checkpoint = 'data/pretrained/resnet101-5d3b4d8f.pth'
adversary_checkpoint = 'data/pretrained/resnet18-5c106cde.pth'
crop = 448  # train.py --img_resolution
crop_size = (crop, crop)  # the training batches' padding size follows it
batch_size = 16  # train.py --batch_size
# train.py --epochs 10 over train_aug's 10,582 images (README: data/
# train.txt) in batches of 16: 662 iterations an epoch (DataLoader keeps
# the last, short batch)
epoch_iters = 662
max_iters = 10 * epoch_iters

model = dict(
    type='AdversarialErasingClassifier',
    localizer=dict(
        type='MultiLabelClassifier',
        # train.py --localizer_model resnet101: torchvision's ResNet-101
        # (timm's resnet101 is the same network and parameter names),
        # ImageNet weights (no --localizer_from_scratch), output stride 32,
        # every layer and BatchNorm trained
        backbone=dict(
            type='TimmFeatureBackbone',
            model_name='resnet101',
            checkpoint=localizer_checkpoint),
        # load_models.py: model.fc = torch.nn.Linear(2048, 20) on the
        # pooled layer4 (a bias, PyTorch's own init); the maps are
        # Grad-CAMs of layer4 (attention_map_wrapper.py, --attention_type
        # gcam), which equal its CAMs after normalisation
        head=dict(type='CAMHead', num_classes=20, bias=True, init_cfg=None)),
    # train.py --adversarial_model resnet18: load_adversarial's
    # torchvision resnet18 with ImageNet weights, fc = Linear(512, 20)
    adversary=dict(
        type='MultiLabelClassifier',
        backbone=dict(
            type='TimmFeatureBackbone',
            model_name='resnet18',
            checkpoint=adversary_checkpoint),
        head=dict(type='CAMHead', num_classes=20, bias=True, init_cfg=None)),
    # utils.py gcam_to_mask(omega=100, sigma=0.5); attention_map_wrapper.py
    # compute_gradcam divides by max - min where it is not 0 (eps 0)
    eraser_head=dict(type='EraserHead', omega=100.0, sigma=0.5, eps=0.0),
    # train.py: BCELoss on sigmoid(logits) (the default cls_loss) and on
    # the adversary's sigmoid scores of erased images (adversary_loss)
    # train.py --alpha 0.05; training_utils.py compute_am_loss on the
    # adversary's sigmoid output
    attention_mining_loss=dict(
        type='AttentionMiningLoss', loss_weight=0.05, use_sigmoid=True),
    # train.py --beta 1e-5; training_utils.py compute_regularization_loss
    regularization_loss=dict(
        type='AttentionRegularizationLoss', loss_weight=1e-5),
    # attention_map_wrapper.py: Grad-CAM weights from a backward without
    # create_graph, constants to L_am and L_reg
    train_cam_weights=False,
    # train.py --train_steps_localizer 200 --train_steps_adversarial 200;
    # training_utils.py TrainingPhase: the localizer first
    localizer_iters=200,
    adversary_iters=200,
    simultaneous=False,
    # train.py --segmentation_map_threshold 0.3 (utils.py
    # generate_segmentation_map: background where every map is below it)
    bg_threshold=0.3)
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# data/load_data.py: RandomResizedCrop(448) (torchvision's scale and
# ratio, PIL's bilinear) and RandomHorizontalFlip, nothing else
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=crop, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWeakSegInputs')
]
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(
        # data_utils.py SegmentationMapToMultiClass: the classes in the
        # SegmentationClassAug mask (README: copied over SegmentationClass)
        label_source='mask',
        pipeline=train_pipeline))
# train.py --evaluate: batch 1 at the original size (load_data.py), the
# labels from the mask too
val_dataloader = dict(dataset=dict(label_source='mask'))
test_dataloader = val_dataloader

# training_utils.py load_optimizer('sgd'): SGD(lr, momentum=0.9,
# weight_decay=1e-4) over all parameters, lr from train.py
# --learning_rate 0.01 and --adversarial_learning_rate 0.01, no scheduler
sgd_optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    localizer=sgd_optim_wrapper,
    adversary=sgd_optim_wrapper)
param_scheduler = None  # a constant learning rate

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# train.py saves a checkpoint every epoch
default_hooks = dict(checkpoint=dict(interval=epoch_iters))
custom_hooks = [dict(type='ErasingVisualizationHook', interval=500,
                     max_pairs=4)]
