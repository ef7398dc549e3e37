"""What every training and test checks before its Runner starts logging:
the data sets' lists and labels, the weights files, that the batches can
be stacked, and that the checkpoint a training resumes from fits it.

A config that fails one of these is refused in one line naming the key or
file, instead of after the Runner's environment and config dump (hundreds
of lines) or in a worker's traceback.

Example::

    from mmengine.config import Config
    from mmadv.engine.preflight import check_datasets, check_weights

    cfg = Config.fromfile('configs/adv_erase_r38_voc.py')
    check_weights(cfg, cfg.filename)
    check_datasets(cfg, cfg.filename)  # image list ... not found
"""
import copy
import os.path as osp
import re
from typing import Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from ..datasets.layout import LOADERS, image_list_lines, innermost_dataset
from ..utils.config_tree import config_dicts
from ..utils.errors import ConfigError, InputError, MissingInputError, one_line
from .model_loading import (drop_pretrained, read_checkpoint,
                            state_dict_mismatch)

# training transforms whose output has one size whatever the input's
_FIXED_SIZE = ('RandomResizedCrop', )
# the ``module.`` of a model wrapper in a state dict's key
_UNWRAPPED = re.compile(r'(^|\.)module\.')


def check_weights(cfg: Config, source: str) -> None:
    """Every weights file the model of ``cfg`` reads (``Pretrained``
    init_cfg checkpoints, ``checkpoint`` and ``pretrained`` paths, and
    ``load_from``) is a local file: nothing is downloaded (neither a URL
    nor timm's ``pretrained=True``), and a missing file is named before
    anything is built.

    Raises:
        ConfigError: A URL or ``pretrained=True``.
        MissingInputError: A weights file that is not there.
    """

    def check(value, key: str) -> None:
        if value is None or value is False:
            return
        if value is True:  # timm's own download
            raise ConfigError(f'{source}: {key}=True would download '
                              'weights; give a local checkpoint file')
        if '://' in value:
            raise ConfigError(f'{source}: {key} {value} would be downloaded;'
                              ' give a local file')
        if not osp.isfile(value):
            raise MissingInputError(f'{source}: weights file {value} of '
                                    f'{key} not found')

    for key, node in config_dicts(cfg.model, 'model'):
        if node.get('type') == 'Pretrained':
            check(node.get('checkpoint'), f'{key}.checkpoint')
        else:
            for name in ('checkpoint', 'pretrained'):
                if isinstance(node.get(name), (str, bool)):
                    check(node[name], f'{key}.{name}')
    check(cfg.get('load_from'), 'load_from')


def check_datasets(cfg: Config,
                   source: str,
                   loaders: Sequence[str] = LOADERS) -> None:
    """Build the data set of each of ``loaders`` (its list and labels,
    without its pipeline; an mmengine ``BaseDataset``, others are left to
    the Runner), so that a missing list, image, annotation or labels file
    is named in its own one line before a Runner is built.

    Raises:
        MMAdvError: The data set's own error (e.g. ``image list ... not
            found``).
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    built = []
    for loader in loaders:
        if not (cfg.get(loader) and cfg[loader].get('dataset')):
            continue
        dataset = copy.deepcopy(innermost_dataset(cfg[loader].dataset))
        kind = DATASETS.get(dataset.get('type')) if isinstance(
            dataset.get('type'), str) else dataset.get('type')
        if not (isinstance(kind, type) and issubclass(kind, BaseDataset)):
            continue
        dataset['pipeline'] = []
        dataset.pop('lazy_init', None)
        if dataset in built:  # test_dataloader = val_dataloader
            continue
        built.append(copy.deepcopy(dataset))
        try:
            DATASETS.build(dataset)
        except (AssertionError, FileNotFoundError) as e:
            if isinstance(e, MissingInputError):
                raise
            # mmseg's own data sets (a folder or list that is not there)
            raise MissingInputError(
                f'{source}: {loader}.dataset ({dataset.get("type")}, data '
                f'root {dataset.get("data_root")}): {one_line(e)}') from None


def _image_path(dataset: dict, name: str) -> str:
    img_dir = dataset.get('data_prefix', {}).get('img_path') or ''
    return osp.join(dataset.get('data_root') or '', img_dir,
                    name + dataset.get('img_suffix', '.jpg'))


def _makes_one_size(pipeline: Sequence[dict]) -> bool:
    """Whether a transform of ``pipeline`` gives every image one size (a
    random resized crop, or a resize to a fixed scale without keeping the
    ratio)."""
    for node in pipeline:
        kind = node.get('type')
        kind = kind if isinstance(kind, str) else getattr(kind, '__name__',
                                                          '')
        if kind in _FIXED_SIZE or (kind == 'Resize' and not node.get(
                'keep_ratio', False) and node.get('scale') is not None):
            return True
    return False


def _sizes(dataset: dict) -> Tuple[str, Tuple[int, int], str, tuple]:
    """The first image of the list and the first of another size (PIL
    reads only the headers); ``('', ...)`` when all have one size."""
    ann_file = osp.join(dataset.get('data_root') or '', dataset['ann_file'])
    with open(ann_file) as f:
        names = [name for _, name in image_list_lines(f.read(), ann_file)]
    first, first_size = '', None
    for name in names:
        path = _image_path(dataset, name)
        try:
            with Image.open(path) as image:
                size = image.size[::-1]
        except OSError as e:
            raise InputError(f'cannot load {path}: {one_line(e)}') from None
        if first_size is None:
            first, first_size = path, size
        elif size != first_size:
            return first, first_size, path, size
    return '', (), '', ()


def check_one_size(cfg: Config,
                   source: str,
                   loaders: Sequence[str] = LOADERS) -> None:
    """Refuse ``loaders`` whose batches cannot be stacked: a data
    preprocessor that pads each batch to no common size (``size`` None,
    ``size_divisor`` set), batches of more than one image, no transform
    that gives every image one size, and images of different sizes (their
    headers are read).

    Raises:
        ConfigError: Naming two images of different sizes and the keys
            that would make it work.
    """
    preprocessor = cfg.get('model', {}).get('data_preprocessor') or {}
    if preprocessor.get('size') is not None or \
            preprocessor.get('size_divisor') is None:
        return
    for key in loaders:
        loader = cfg.get(key)
        if not (loader and loader.get('dataset')) or \
                loader.get('batch_size', 1) <= 1:
            continue
        dataset = innermost_dataset(loader.dataset)
        if not dataset.get('ann_file') or _makes_one_size(
                dataset.get('pipeline') or []):
            continue
        first, first_size, other, size = _sizes(dataset)
        if other:
            raise ConfigError(
                f'{source}: {key} batches {loader.batch_size} images of '
                f'different sizes (H x W: {first} is {first_size[0]} x '
                f'{first_size[1]}, {other} is {size[0]} x {size[1]}) and '
                'model.data_preprocessor pads them to no common size '
                f'(size_divisor {preprocessor.size_divisor}): set crop_size '
                f'(crops of one size) or {key}.batch_size=1')


def _optimizer_names(cfg: Config) -> Optional[set]:
    """The names of the optimizers of ``cfg``'s ``optim_wrapper`` (an
    ``OptimWrapperDict``: one per model part), None for one optimizer."""
    wrapper = cfg.get('optim_wrapper') or {}
    if 'optimizer' in wrapper:
        return None
    return {k for k, v in wrapper.items()
            if isinstance(v, dict) and 'optimizer' in v}


def check_resumable(cfg: Config, checkpoint: str, source: str) -> None:
    """Refuse resuming the training of ``cfg`` from ``checkpoint`` when
    the checkpoint was saved by another model (keys or shapes) or another
    set of optimizers, before the Runner is built.

    Args:
        cfg (Config): The training config, fitted to its data set
            (:func:`~mmadv.engine.dataset_fit.fit_to_dataset`).
        checkpoint (str): The checkpoint the training would resume from.
        source (str): The config, for the message.

    Raises:
        InputError: One line naming the checkpoint, the config and the
            first differences.
    """
    loaded = read_checkpoint(checkpoint)
    model_cfg = copy.deepcopy(cfg.model)
    for _, node in config_dicts(model_cfg, 'model'):
        if node.get('backbone'):
            drop_pretrained(node.backbone)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    # a checkpoint of a distributed training names the parts its wrappers
    # held (``adversary.module.backbone...``): compared without them
    state = {_UNWRAPPED.sub(r'\1', key): value
             for key, value in loaded.get('state_dict', {}).items()}
    mismatch = state_dict_mismatch(MODELS.build(model_cfg), state)
    expected = _optimizer_names(cfg)
    saved = loaded.get('optimizer')
    saved = None if not isinstance(saved, dict) or 'param_groups' in saved \
        else set(saved)
    if not mismatch and saved != expected:
        mismatch = (f'optimizers {sorted(saved or ["one"])} saved, '
                    f'{sorted(expected or ["one"])} in the config')
    if mismatch:
        raise InputError(
            f'cannot resume from {checkpoint}: it was saved by another '
            f'model or optimizer than {source}\'s ({mismatch}); use another '
            'work dir, or delete its checkpoints to train from the start')
