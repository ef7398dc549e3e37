# The demo's label-PNG data (demo_shapes_masks.py), schedule and runtime for
# a model trained only, for the maps it refines (the AffinityNet and IRNet
# demo configs): no validation or test, since the refined maps are scored
# instead; a checkpoint every 100 iterations (the last one kept).
_base_ = [
    './demo_shapes_masks.py', './demo_schedule.py',
    '../../_base_/default_runtime.py'
]

val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
default_hooks = dict(
    checkpoint=dict(
        interval={{_base_.checkpoint_interval}}, max_keep_ckpts=1))
