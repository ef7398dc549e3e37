# The demo's schedule, for networks trained from random weights in a few
# minutes on a CPU: AdamW instead of VOC's SGD (it converges in the short
# schedule without a learning-rate search), poly decay, 400 iterations.
max_iters = 400
# a checkpoint every 100 iterations (the last one kept): a training cut
# short resumes from at most 100 iterations back (seconds on a CPU), not
# from the start
checkpoint_interval = 100

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
randomness = dict(seed=0)
