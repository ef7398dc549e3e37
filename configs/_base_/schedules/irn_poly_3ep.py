# IRN's schedule (run_sample.py, train_irn.py): batch 32, 3 epochs of VOC
# train_aug ((10,582 // 32) x 3 = 990 steps, IRN's max_step), SGD lr 0.1,
# weight decay 1e-4, poly decay (power 0.9, torchutils.PolyOptimizer).
max_iters = 990

optim_wrapper = dict(
    type='OptimWrapper',
    # IRN's PolyOptimizer(params, lr, weight_decay, ...) passes its
    # weight_decay as SGD's third argument, momentum: IRN's SGD has momentum
    # 1e-4 (in effect none); the parameter groups set weight decay 1e-4.
    # The edge layers train at lr 0.1 (1x; the displacement layers, not
    # built here, at 10x)
    optimizer=dict(type='SGD', lr=0.1, momentum=1e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
# trained only: the random walk's maps are scored instead
val_cfg = None
test_cfg = None
