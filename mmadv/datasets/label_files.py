"""The files of image-level labels that ``ImageLabelDataset`` reads with
``label_source='file'``, read as data: nothing in them is executed.

- ``.npy``: PSA's ``cls_labels.npy`` (``voc12/make_cls_labels.py`` of
  https://github.com/jiwoon-ahn/psa), ``np.save`` of a dict ``name ->
  multi-hot`` numeric vector. NumPy stores such a dict as a pickle, and
  ``np.load(..., allow_pickle=True)`` runs whatever a crafted pickle
  names; here a restricted unpickler admits only what that dict is made
  of (NumPy's array reconstruction, dtypes, and the ``_codecs.encode``
  that Python 2 pickles of byte strings call) and the result must be a
  dict of names to numeric vectors.
- ``.json``: an object ``name -> [class names or foreground indices]``.
- ``.csv``: a row per image, its name in the first cell and its class
  names or foreground indices in the others, or in one cell separated by
  spaces, ``;`` or ``|`` (``2007_000032,aeroplane person`` or
  ``2007_000032,aeroplane,person``); a first row whose first cell is
  ``image``, ``name``, ``filename`` or ``file`` is a header.
"""
import csv
import io
import json
import pickle
import re
from typing import Dict, Union

import numpy as np

from ..utils.errors import InputError, one_line

LabelEntry = Union[np.ndarray, list]

# the globals a pickled dict of numeric arrays names (NumPy 1 and 2), and
# nothing else: no class, function or module that could run code
_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # what rebuilds a pickled array
_ALLOWED_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy._core.multiarray', '_reconstruct'): _RECONSTRUCT,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('_codecs', 'encode'): __import__('_codecs').encode,
}


class _ArrayDictUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and plain containers only; any other global
    is refused before it is looked up."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f'it names {module}.{name}, which a labels file does not '
                'need') from None


def _read_npy_dict(content: bytes, path: str) -> Dict[str, np.ndarray]:
    """The dict ``name -> numeric vector`` of PSA's ``cls_labels.npy``."""
    stream = io.BytesIO(content)
    read_header = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0
    }
    try:
        version = np.lib.format.read_magic(stream)
        if version not in read_header:
            raise ValueError(f'format version {version}')
        shape, _, dtype = read_header[version](stream)
    except ValueError as e:
        raise InputError(f'labels_file {path}: not a .npy file '
                         f'({one_line(e)})') from None
    if dtype != object or shape != ():
        raise InputError(
            f'labels_file {path}: a .npy labels file holds a dict of image '
            f'names to labels (PSA\'s cls_labels.npy), not an array of '
            f'shape {shape} and dtype {dtype}')
    try:
        table = _ArrayDictUnpickler(stream).load()
    except Exception as e:  # any malformed or refused pickle: one line
        raise InputError(f'labels_file {path}: refused ({one_line(e)})') \
            from None
    table = table.item() if isinstance(table, np.ndarray) else table
    if not isinstance(table, dict):
        raise InputError(f'labels_file {path}: holds a '
                         f'{type(table).__name__}, not a dict of image names '
                         'to labels')
    for name, labels in table.items():
        if not isinstance(name, str) or not isinstance(
                labels, np.ndarray) or labels.dtype.kind not in 'biuf':
            raise InputError(
                f'labels_file {path}: entry {name!r} is not an image name '
                'with a numeric label vector')
    return table


# the first cells of a CSV header row
_CSV_HEADER = ('image', 'name', 'filename', 'file')


def _read_csv(content: bytes, path: str) -> Dict[str, list]:
    """``name -> [class names or foreground indices]`` of a CSV file
    (the module docstring)."""
    try:
        rows = list(csv.reader(io.StringIO(content.decode('utf-8-sig'))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f'labels_file {path}: not a CSV file '
                         f'({one_line(e)})') from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if rows and rows[0][0].strip().lower() in _CSV_HEADER:
        rows = rows[1:]
    table = {}
    for number, row in enumerate(rows, 1):
        name = row[0].strip()
        if not name or name in table:
            raise InputError(
                f'labels_file {path}: row {number} names '
                f'{"no image" if not name else f"image {name} again"}')
        table[name] = [int(label) if label.isdigit() else label
                       for cell in row[1:]
                       for label in re.split(r'[\s;|]+', cell.strip())
                       if label]
    return table


def read_labels_file(content: bytes, path: str) -> Dict[str, LabelEntry]:
    """The labels of ``path`` (its bytes ``content``): ``name ->`` a
    numeric vector (``.npy``) or a list of class names and foreground
    indices (``.json``, ``.csv``).

    Raises:
        InputError: Another suffix, a malformed file, or a ``.npy`` that is
            not a pickled dict of names to numeric vectors (refused before
            anything in it is looked up).
    """
    if path.endswith('.npy'):
        return _read_npy_dict(content, path)
    if path.endswith('.json'):
        try:
            table = json.loads(content)
        except ValueError as e:
            raise InputError(f'labels_file {path}: not valid JSON '
                             f'({one_line(e)})') from None
        if not isinstance(table, dict):
            raise InputError(f'labels_file {path}: must hold an object of '
                             'image names to lists of classes')
        for name, labels in table.items():
            if not isinstance(labels, list) or not all(
                    isinstance(c, str) or type(c) is int for c in labels):
                raise InputError(
                    f'labels_file {path}: the labels of image {name} must '
                    f'be a list of class names or indices, got {labels!r}')
        return table
    if path.endswith('.csv'):
        return _read_csv(content, path)
    raise InputError(f'labels_file {path} must be a .npy, a .json or a '
                     '.csv')
