# mmseg's runtime (default_scope='mmseg', SegLocalVisualizer with local
# files, iteration-based logging) plus what mmadv needs.
_base_ = ['mmseg::_base_/default_runtime.py']

# registers mmadv's modules into mmseg's registries
custom_imports = dict(imports=['mmadv'], allow_failed_imports=False)

# Two networks, two optimizers: the default MMDistributedDataParallel never
# calls the model's own train_step, the separate wrapper wraps each child
# (localizer, adversary) in its own DDP and calls train_step.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# For TensorBoard (pip install tensorboard), add
# dict(type='TensorboardVisBackend') to visualizer.vis_backends.
