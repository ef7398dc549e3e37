"""Check every file a config's data sets read before any training: images
that are missing, empty, truncated or do not decode, annotations that do
not parse or name unknown classes, masks that are not single-channel or
hold values that are no class.

Example::

    from mmengine.config import Config
    from mmadv.apis import check_data

    report = check_data(Config.fromfile('configs/adv_erase_r38_voc.py'))
    assert not report['bad']
"""
import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from ..datasets import ImageLabelDataset
from ..datasets.file_checks import check_image, check_mask
from ..datasets.layout import LOADERS, innermost_dataset
from ..utils.console import progress_bar
from ..utils.errors import MMAdvError, one_line


def _build(dataset_cfg: dict) -> tuple:
    """The dataset (without its pipeline) and the lines of the images it
    left out or refused to list."""
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg['pipeline'] = []
    kind = DATASETS.get(dataset_cfg['type'])
    if isinstance(kind, type) and issubclass(kind, ImageLabelDataset):
        # every bad annotation listed (by the report, not a warning)
        dataset_cfg.update(skip_invalid=True, warn_invalid=False)
    try:
        dataset = DATASETS.build(dataset_cfg)
    except MMAdvError as e:  # the list itself: nothing else to check
        return None, [str(e)]
    except (AssertionError, FileNotFoundError) as e:  # mmseg's datasets
        return None, [f'{dataset_cfg.get("type")} of data root '
                      f'{dataset_cfg.get("data_root")}: {one_line(e)}']
    return dataset, list(getattr(dataset, 'invalid', []))


def check_data(cfg: Config,
               loaders: Sequence[str] = LOADERS,
               workers: int = 8) -> Dict[str, object]:
    """Check the files of the data sets of ``cfg``'s ``loaders``.

    Every image of each data set's list is read and decoded, every mask it
    names (``seg_map_path``: ground truth, pseudo-labels or affinity
    labels) checked against the data set's classes and ignore index;
    :class:`~mmadv.datasets.ImageLabelDataset` also reports every
    annotation it could not read. Each bad file is one line of the
    report's ``bad``.

    Args:
        cfg (Config): The config.
        loaders (Sequence[str]): Its dataloaders to check (those that are
            None or absent are passed over). Defaults to all three.
        workers (int): Threads reading the files. Defaults to 8.

    Returns:
        dict: ``loaders`` (per loader: ``images`` and ``bad`` counts) and
        ``bad``, the lines of every bad file.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    report: Dict[str, object] = dict(loaders={}, bad=[])
    seen = set()
    for key in loaders:
        loader = cfg.get(key)
        if not loader:
            continue
        dataset_cfg = innermost_dataset(loader['dataset'])
        identity = repr(sorted((k, repr(v)) for k, v in dataset_cfg.items()
                               if k != 'pipeline'))
        if identity in seen:  # test_dataloader = val_dataloader
            continue
        seen.add(identity)
        dataset, bad = _build(dataset_cfg)
        infos = [dataset.get_data_info(i)
                 for i in range(len(dataset))] if dataset else []
        num_classes = len(dataset.metainfo['classes']) if dataset else 0
        ignore_index = getattr(dataset, 'ignore_index', 255)

        def check(info: dict) -> List[str]:
            lines = [check_image(info['img_path'])]
            if info.get('seg_map_path'):
                lines.append(
                    check_mask(info['seg_map_path'], num_classes,
                               ignore_index))
            return [line for line in lines if line]

        print_log(f'{key}: checking {len(infos)} images of '
                  f'{dataset_cfg.get("ann_file")}', logger='current')
        with ThreadPoolExecutor(max(1, workers)) as pool, \
                progress_bar(len(infos)) as bar:
            for lines in pool.map(check, infos):
                bad += lines
                bar.update()
        print_log(f'{key}: {len(bad)} bad files', logger='current')
        report['loaders'][key] = dict(
            images=len(infos) + len(getattr(dataset, 'invalid', [])),
            bad=len(bad))
        report['bad'] += bad
    return report


def summary(report: Dict[str, object]) -> Optional[str]:
    """One line of a report with bad files, None when all are good."""
    if not report['bad']:
        return None
    counts = ', '.join(f'{key}: {v["bad"]}'
                       for key, v in report['loaders'].items() if v['bad'])
    return f'{len(report["bad"])} bad files ({counts}); first: ' \
        f'{report["bad"][0]}'
