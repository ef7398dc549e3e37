"""Split names and image lists: a split is a plain name (its list and the
folders named after it stay inside the data set and the work directory),
and a list names each image once."""
import pytest

import mmadv  # noqa: F401
from mmadv.apis import ConfigError, InputError
from mmadv.datasets.layout import image_list_lines, read_image_list, split_file


@pytest.mark.parametrize('split', [
    '../train_aug', '/abs/train', 'sub/train', '..', '.', '', ' val',
    'a\\b', None
])
def test_a_split_that_is_not_a_plain_name_is_refused(split):
    with pytest.raises(ConfigError) as info:
        split_file(split)
    assert str(info.value) == (
        f'split {split!r} must be a plain name, the list '
        'ImageSets/Segmentation/<split>.txt of the data root')


def test_split_file():
    assert split_file('train_aug') == 'ImageSets/Segmentation/train_aug.txt'
    assert split_file('val_all') == 'ImageSets/Segmentation/val_all.txt'


def test_an_image_listed_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / 'train.txt'
    path.write_text('a\n\nb\n  c  \nb\n')
    with pytest.raises(InputError) as info:
        read_image_list(str(path))
    assert str(info.value) == (f'image list {path} names b twice (lines 3 '
                               'and 5): list each image once')
    assert image_list_lines('a\n\n  c  \n', 'x') == [(1, 'a'), (3, 'c')]
