"""Where a data set in VOC's layout keeps its files: the image list of a
split (and its names, each once), the image suffix, which files of a list
a folder lacks, and the dataset config inside its wrappers (and the
dataloaders of a config that hold one)."""
import os.path as osp
from typing import List, Sequence, Tuple

from ..utils.errors import ConfigError, InputError

IMG_SUFFIX = '.jpg'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def missing_files(folder: str, names: Sequence[str],
                  suffix: str) -> List[str]:
    """The names of ``names`` without a file ``<folder>/<name><suffix>``,
    in their order."""
    return [n for n in names if not osp.isfile(osp.join(folder, n + suffix))]


def split_file(split: str) -> str:
    """The image list of ``split``, relative to the data root.

    Raises:
        ConfigError: ``split`` is not a plain name (empty, absolute, or
            with a path separator or ``..``): its list and the folders
            named after it would lie outside the data set and the work
            directory.
    """
    if not isinstance(split, str) or not split or split in ('.', '..') \
            or '/' in split or '\\' in split or split != split.strip():
        raise ConfigError(f'split {split!r} must be a plain name, the list '
                          'ImageSets/Segmentation/<split>.txt of the data '
                          'root')
    return f'ImageSets/Segmentation/{split}.txt'


def image_list_lines(text: str, path: str) -> List[Tuple[int, str]]:
    """The ``(line number, name)`` of each image of an image list's
    ``text`` (blank lines skipped).

    Raises:
        InputError: A name listed twice (it would weigh twice in training
            and be counted twice in every folder made from the list).
    """
    lines, first = [], {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if name in first:
            raise InputError(f'image list {path} names {name} twice (lines '
                             f'{first[name]} and {line_no}): list each '
                             'image once')
        first[name] = line_no
        lines.append((line_no, name))
    return lines


def read_image_list(path: str) -> List[str]:
    """The names of the image list ``path``, each once
    (:func:`image_list_lines`)."""
    with open(path) as f:
        return [name for _, name in image_list_lines(f.read(), path)]


def innermost_dataset(dataset: dict) -> dict:
    """The innermost dataset config of ``RepeatDataset``-style wrappers
    (each holding the next in ``dataset``)."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset
