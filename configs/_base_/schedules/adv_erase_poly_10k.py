# PSA/SEAM's classifier schedule: SGD, lr 0.01 with 10x on the new
# classifier layer, weight decay 5e-4, poly decay (power 0.9) over about
# 8 epochs of VOC train_aug at batch 8 (10,582 / 8 x 8 = 10.6k iterations).
max_iters = 10600

optim_wrapper = dict(
    # one optimizer per sub-network; keys are the model's attributes
    constructor='MultiOptimWrapperConstructor',
    localizer=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.0,
                       weight_decay=5e-4),
        # 10x learning rate on the new 1x1 classifier, as PSA's fc8
        paramwise_cfg=dict(custom_keys={'head.classifier': dict(
            lr_mult=10.0)})),
    adversary=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.0,
                       weight_decay=5e-4),
        paramwise_cfg=dict(custom_keys={'head.classifier': dict(
            lr_mult=10.0)})))

# applied to every optimizer of the OptimWrapperDict
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # both optimizers, the schedulers and the model's phase counter
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))

# image / attention overlay / mask / erased image grids in
# <work_dir>/<timestamp>/vis_data/vis_image/erasing_<iter>.png
custom_hooks = [dict(type='ErasingVisualizationHook', interval=500,
                     max_pairs=4)]
