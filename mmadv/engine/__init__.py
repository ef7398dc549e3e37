from .dataset_fit import fit_to_dataset
from .hooks import *  # noqa: F401,F403
from .model_loading import init_model, load_checkpoint_strict, select_device
from .optimizers import *  # noqa: F401,F403
from .seg_protocols import SEG_PROTOCOLS, SegProtocol, seg_protocol
from .training import build_runner, predict, resume_checkpoint, test, train

__all__ = [
    'fit_to_dataset', 'init_model', 'load_checkpoint_strict',
    'select_device', 'build_runner', 'resume_checkpoint', 'test', 'train',
    'predict', 'SEG_PROTOCOLS', 'SegProtocol', 'seg_protocol'
]
