"""Where a data set in VOC's layout keeps its files: the image list of a
split, the image suffix, and the dataset config inside its wrappers (and
the dataloaders of a config that hold one)."""

IMG_SUFFIX = '.jpg'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def split_file(split: str) -> str:
    """The image list of ``split``, relative to the data root."""
    return f'ImageSets/Segmentation/{split}.txt'


def innermost_dataset(dataset: dict) -> dict:
    """The innermost dataset config of ``RepeatDataset``-style wrappers
    (each holding the next in ``dataset``)."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset
