# PSA's AffinityNet schedule: batch 8, 8 epochs of VOC train_aug (10,582 /
# 8 x 8 = 10.6k iterations), SGD lr 0.1, weight decay 1e-4, 10x on the new
# layers, poly decay (power 0.9).
max_iters = 10600

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    # PSA: 10x on the new layers
    paramwise_cfg=dict(
        custom_keys=dict(
            level_convs=dict(lr_mult=10.0), embed_conv=dict(lr_mult=10.0))))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
# trained only: the random walk's maps are scored instead
val_cfg = None
test_cfg = None
