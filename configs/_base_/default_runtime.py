# mmseg's runtime (default_scope='mmseg', SegLocalVisualizer with local
# files, iteration-based logging) plus what every mmadv config needs.
_base_ = ['mmseg::_base_/default_runtime.py']

# registers mmadv's modules into mmseg's registries
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

# iteration-based hooks; the schedules set the checkpoint interval
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))

# For TensorBoard (pip install tensorboard), add
# dict(type='TensorboardVisBackend') to visualizer.vis_backends.
