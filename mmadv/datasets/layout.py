"""Where a data set in VOC's layout keeps its files: the image list of a
split, the image suffix, which files of a list a folder lacks, and the
dataset config inside its wrappers (and the dataloaders of a config that
hold one)."""
import os.path as osp
from typing import List, Sequence

IMG_SUFFIX = '.jpg'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def missing_files(folder: str, names: Sequence[str],
                  suffix: str) -> List[str]:
    """The names of ``names`` without a file ``<folder>/<name><suffix>``,
    in their order."""
    return [n for n in names if not osp.isfile(osp.join(folder, n + suffix))]


def split_file(split: str) -> str:
    """The image list of ``split``, relative to the data root."""
    return f'ImageSets/Segmentation/{split}.txt'


def innermost_dataset(dataset: dict) -> dict:
    """The innermost dataset config of ``RepeatDataset``-style wrappers
    (each holding the next in ``dataset``)."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset
