"""Labels files are read as data: PSA's ``cls_labels.npy`` in the format
its code wrote (NumPy 1, pickle protocol 2) and as ``np.save`` writes it
today, and a crafted ``.npy`` refused before anything in it runs."""
import io
import os
import pickle
import pickletools

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmadv  # noqa: F401
from mmadv.datasets.label_files import read_labels_file
from mmadv.utils.errors import InputError

LABELS = {
    '2007_000000': np.eye(20, dtype=np.float32)[3],
    '2007_000001': np.eye(20, dtype=np.float32)[[0, 14]].sum(0),
}


def npy_of_pickle(payload: bytes) -> bytes:
    """A .npy file of a 0-d object array whose pickle is ``payload``."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, dict(descr='|O', fortran_order=False, shape=()))
    return stream.getvalue() + payload


def psa_cls_labels(table: dict) -> bytes:
    """``table`` as PSA's ``voc12/make_cls_labels.py`` saved it: NumPy 1
    (``numpy.core``), pickle protocol 2 (byte strings through
    ``_codecs.encode``)."""
    array = np.empty((), dtype=object)
    array[()] = table
    payload = pickle.dumps(array, protocol=2).replace(
        b'numpy._core.multiarray', b'numpy.core.multiarray')
    return npy_of_pickle(payload)


def pickle_globals(npy: bytes) -> set:
    stream = io.BytesIO(npy)
    np.lib.format.read_magic(stream)
    np.lib.format.read_array_header_1_0(stream)
    return {arg for op, arg, _ in pickletools.genops(stream.read())
            if op.name == 'GLOBAL'}


class Payload:
    """Makes folder ``path`` when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


def same_labels(read, expected):
    assert sorted(read) == sorted(expected)
    for name, labels in expected.items():
        assert read[name].dtype == labels.dtype
        np.testing.assert_array_equal(read[name], labels)


def test_psa_format_of_its_code_and_of_np_save_today(tmp_path):
    old = psa_cls_labels(LABELS)
    # the globals of PSA's own voc12/cls_labels.npy
    assert pickle_globals(old) == {
        'numpy.core.multiarray _reconstruct', 'numpy ndarray',
        'numpy dtype', '_codecs encode'}
    same_labels(read_labels_file(old, 'cls_labels.npy'), LABELS)
    np.save(tmp_path / 'cls_labels.npy', LABELS)
    same_labels(
        read_labels_file((tmp_path / 'cls_labels.npy').read_bytes(),
                         'cls_labels.npy'), LABELS)


def test_a_crafted_npy_runs_nothing(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'cls_labels.npy'
    np.save(path, dict(LABELS, evil=Payload(str(marker))))
    # what allow_pickle=True does with it
    np.load(path, allow_pickle=True)
    assert marker.is_dir()
    marker.rmdir()

    init_default_scope('mmseg')
    (tmp_path / 'list.txt').write_text('2007_000000\n')
    (tmp_path / 'JPEGImages').mkdir()
    (tmp_path / 'JPEGImages/2007_000000.jpg').write_bytes(b'')
    with pytest.raises(InputError) as info:
        DATASETS.build(dict(type='VOCImageLabelDataset',
                            data_root=str(tmp_path), ann_file='list.txt',
                            label_source='file', labels_file=path.name))
    assert str(info.value) == (
        f'labels_file {path}: refused (it names posix.mkdir, which a labels '
        'file does not need)')
    assert not marker.exists()


@pytest.mark.parametrize('content, message', [
    (b'not a numpy file', 'not a .npy file (the magic string is not '
     "correct; expected b'\\x93NUMPY', got b'not a '"),
    (np.arange(20.).tobytes(), 'not a .npy file'),
    ('array', 'a .npy labels file holds a dict of image names to labels '
     "(PSA's cls_labels.npy), not an array of shape (2, 20) and dtype "
     'float32'),
    ('list', "holds a list, not a dict of image names to labels"),
    ('strings', "entry '2007_000000' is not an image name with a numeric "
     'label vector'),
    ('truncated', 'refused ('),
])
def test_npy_that_is_not_a_labels_dict(tmp_path, content, message):
    if content == 'array':
        np.save(tmp_path / 'a.npy', np.zeros((2, 20), np.float32))
        content = (tmp_path / 'a.npy').read_bytes()
    elif content == 'list':
        content = psa_cls_labels([1, 2])
    elif content == 'strings':
        content = psa_cls_labels({'2007_000000': 'dog'})
    elif content == 'truncated':
        content = psa_cls_labels(LABELS)[:-40]
    with pytest.raises(InputError) as info:
        read_labels_file(content, 'l.npy')
    assert str(info.value).startswith(f'labels_file l.npy: {message}')
    assert '\n' not in str(info.value)


@pytest.mark.parametrize('content, message', [
    ('{"a": ["dog"', 'not valid JSON'),
    ('[["dog"]]', 'must hold an object of image names to lists of classes'),
    ('{"a": "dog"}', "the labels of image a must be a list of class names "
     "or indices, got 'dog'"),
    ('{"a": [[1]]}', 'the labels of image a must be a list of class names '
     'or indices, got [[1]]'),
    ('{"a": [1.5]}', 'the labels of image a must be a list of class names '
     'or indices, got [1.5]'),
])
def test_json_that_is_not_a_labels_object(content, message):
    with pytest.raises(InputError) as info:
        read_labels_file(content.encode(), 'l.json')
    assert str(info.value).startswith(f'labels_file l.json: {message}')


def test_json_labels_read_as_written():
    table = {'a': ['dog', 3], 'b': []}
    assert read_labels_file(
        b'{"a": ["dog", 3], "b": []}', 'l.json') == table


@pytest.mark.parametrize('content', [
    'image,labels\na,dog 3\nb,\nc,cat;person|dog\n',  # a header, one cell
    'a,dog,3\n\nb\nc,cat,person,dog\n',  # a cell per label, no header
    '\ufeffname,labels\r\na,"dog 3"\r\nb,\r\nc,cat;person|dog\r\n',  # Excel
])
def test_csv_labels_read_as_written(content):
    assert read_labels_file(content.encode(), 'l.csv') == {
        'a': ['dog', 3], 'b': [], 'c': ['cat', 'person', 'dog']}


@pytest.mark.parametrize('content,message', [
    ('a,dog\na,cat\n', 'row 2 names image a again'),
    ('a,dog\n,cat\n', 'row 2 names no image'),
])
def test_csv_that_is_not_a_labels_table(content, message):
    with pytest.raises(InputError) as info:
        read_labels_file(content.encode(), 'l.csv')
    assert str(info.value) == f'labels_file l.csv: {message}'
