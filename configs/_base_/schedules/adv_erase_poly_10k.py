# PSA/SEAM's classifier schedule: SGD, lr 0.01 with 10x on the new
# classifier layer, weight decay 5e-4, poly decay (power 0.9) over about
# 8 epochs of VOC train_aug at batch 8 (10,582 / 8 x 8 = 10.6k iterations).
max_iters = 10600

# one SGD per sub-network, with 10x learning rate on the new 1x1
# classifier, as PSA's fc8
sgd_optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.0, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'head.classifier': dict(lr_mult=10.0)}))
optim_wrapper = dict(
    # keys are the model's attributes
    constructor='MultiOptimWrapperConstructor',
    localizer=sgd_optim_wrapper,
    adversary=sgd_optim_wrapper)

# applied to every optimizer of the OptimWrapperDict
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# image / attention overlay / mask / erased image grids in
# <work_dir>/<timestamp>/vis_data/vis_image/erasing_<iter>.png
custom_hooks = [dict(type='ErasingVisualizationHook', interval=500,
                     max_pairs=4)]
