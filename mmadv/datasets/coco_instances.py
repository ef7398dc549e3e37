"""A COCO instances file read as untrusted data: every record the
conversion (:func:`~mmadv.datasets.coco.convert_coco2014`) uses is
checked before anything is written, so that a wrong file is refused in
one line naming the file, the image or annotation id and the field,
instead of a traceback, a segfault inside pycocotools or a tree written
outside its folder.

The checks: a ``file_name`` is a plain base name; ids are listed once and
two images never share an output name; ``height`` and ``width`` are the
image file's (its header) and within :data:`MAX_IMAGE_PIXELS`; every
annotation names an image and a category of the file, has an ``area``
and a segmentation pycocotools reads (polygons of 3 or more points near
the image, RLE whose runs cover it exactly).
"""
import json
import math
import os.path as osp
import re
import reprlib
from typing import Any, Callable, Dict, List, Optional, Tuple

from PIL import Image

from ..utils.errors import InputError, one_line

# COCO 2014's images are at most 640 px on a side (409,600 px). A declared
# size above this bound is a broken instances file: refused before a mask
# of that size (and one as large per annotation while painting) is
# allocated. 8192 x 8192 is 64 MiB of uint8 mask, far above any COCO image.
MAX_IMAGE_PIXELS = 8192 * 8192
# COCO's file names are plain base names (COCO_train2014_000000000001.jpg):
# no folder, no white space (the image lists hold one name a line)
_PLAIN_NAME = re.compile(r'[^\s/\\\x00]+')
# the values in messages: long strings and lists shortened, on one line
_VALUE = reprlib.Repr()
_VALUE.maxstring = _VALUE.maxother = 120


def _is_int(value: Any) -> bool:
    """Whether ``value`` is a JSON whole number (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _is_plain_name(value: Any) -> bool:
    """Whether ``value`` is a file name without folder: no path separator,
    not ``.`` or ``..``, no white space."""
    return isinstance(value, str) and value not in ('.', '..') and bool(
        _PLAIN_NAME.fullmatch(value))


def read_json(path: str) -> Any:
    """The content of the JSON file ``path``.

    Raises:
        InputError: It is not JSON.
    """
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except ValueError as e:  # a JSON or a UTF-8 decoding error
        raise InputError(f'{path}: not a JSON file ({one_line(e)})') \
            from None


def _record(value: Any, where: str) -> dict:
    """``value``, a JSON object; refused in one line otherwise."""
    if not isinstance(value, dict):
        raise InputError(f'{where} is {_VALUE.repr(value)}, not an object')
    return value


def _field(record: dict, key: str, where: str, valid: Callable[[Any], bool],
           what: str) -> Any:
    """``record[key]``; a missing key, or a value for which ``valid`` is
    false, is refused in one line: ``<where>: no <key>`` or ``<where>:
    <key> <value> is not <what>``."""
    if key not in record:
        raise InputError(f'{where}: no {key}')
    value = record[key]
    if not valid(value):
        raise InputError(f'{where}: {key} {_VALUE.repr(value)} is not {what}')
    return value


def read_instances(path: str) -> dict:
    """The JSON of the instances file ``path``: an object whose
    ``images``, ``annotations`` and ``categories`` are lists."""
    data = _record(read_json(path), path)
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise InputError(f'{path}: no {key} list at the top level')
        if not isinstance(data[key], list):
            raise InputError(f'{path}: {key} {_VALUE.repr(data[key])} is '
                             'not a list')
    return data


def category_labels(categories: List[Any], path: str,
                    classes: Tuple[str, ...]) -> Dict[int, int]:
    """Category id -> label 1..80 (id order) of the ``categories`` of
    ``path``: each has an id (listed once) and a name, and the names in id
    order must be ``classes`` (COCO 2014's 80)."""
    names = {}
    for index, category in enumerate(categories):
        where = f'{path}: categories[{index}]'
        cat_id = _field(_record(category, where), 'id', where, _is_int,
                        'a whole number')
        where = f'{path}: category {cat_id}'
        if cat_id in names:
            raise InputError(f'{where}: id listed twice in categories')
        names[cat_id] = _field(category, 'name', where,
                               lambda value: isinstance(value, str),
                               'a string')
    ids = sorted(names)
    in_order = tuple(names[cat] for cat in ids)
    if in_order != tuple(classes):
        raise InputError(f'{path}: its {len(ids)} categories in id order '
                         f'are not COCO 2014\'s {len(classes)} '
                         f'({", ".join(in_order[:3])}, ... against '
                         f'{", ".join(classes[:3])}, ...)')
    return {cat: label for label, cat in enumerate(ids, start=1)}


def _check_image_record(info: dict, where: str) -> None:
    """Refuse an image record whose ``file_name`` is not a plain base name
    (it would be written outside the tree), or whose ``height`` and
    ``width`` are not positive whole numbers within
    :data:`MAX_IMAGE_PIXELS`."""
    _field(info, 'file_name', where, _is_plain_name,
           "a plain file name (COCO's are base names such as "
           'COCO_train2014_000000000001.jpg)')
    height, width = (
        _field(info, key, where, lambda value: _is_int(value) and value > 0,
               'a positive whole number') for key in ('height', 'width'))
    if height * width > MAX_IMAGE_PIXELS:
        raise InputError(f'{where}: height {height} x width {width} is more '
                         f'than {MAX_IMAGE_PIXELS:,} pixels (COCO\'s images '
                         'are at most 640 px on a side)')


def image_records(images: List[Any], path: str,
                  names: Dict[str, Tuple[str, int]]) -> Dict[int, dict]:
    """Image id -> record of the ``images`` of ``path``, each checked by
    :func:`_check_image_record`.

    Refuses an id listed twice (pycocotools' index would keep one record
    and give both images its file) and a file name whose output name
    (``<name>.png``, ``<name>.jpg``) is another image's, in this file or
    in ``names`` (output name -> (instances file, image id) of the splits
    loaded before; updated).
    """
    records = {}
    for index, info in enumerate(images):
        where = f'{path}: images[{index}]'
        image_id = _field(_record(info, where), 'id', where, _is_int,
                          'a whole number')
        where = f'{path}: image {image_id}'
        _check_image_record(info, where)
        if image_id in records:
            raise InputError(
                f'{where}: id listed twice in images (file_name '
                f'{records[image_id]["file_name"]} and {info["file_name"]})')
        name = osp.splitext(info['file_name'])[0]
        if name in names:
            other_path, other_id = names[name]
            other = f'image {other_id}' + (
                '' if other_path == path else f' of {other_path}')
            raise InputError(f'{where}: file_name {info["file_name"]} gives '
                             f'the output name {name} of {other} too')
        records[image_id] = info
        names[name] = (path, image_id)
    return records


def rle_runs(counts: Any) -> Optional[List[int]]:
    """The run lengths of RLE ``counts``: a list of whole numbers as it
    is, COCO's compressed string decoded as pycocotools' ``rleFrString``
    does (5 bits a character from ``'0'``, a continuation bit, a sign bit
    at the end of a run, each run after the second a delta from the run
    two before); None for anything else, a negative run, a character
    outside ``'0'..'o'`` or a string that ends inside a run."""
    if isinstance(counts, list):
        runs = counts
    elif isinstance(counts, str):
        runs, value, shift = [], 0, 0
        for char in counts:
            code = ord(char) - 48
            if not 0 <= code < 64:
                return None
            value |= (code & 0x1f) << shift
            shift += 5
            if code & 0x20:
                continue
            if code & 0x10:
                value -= 1 << shift
            if len(runs) > 2:
                value += runs[-2]
            runs.append(value)
            value = shift = 0
        if shift:
            return None
    else:
        return None
    return runs if all(_is_int(run) and run >= 0 for run in runs) else None


def _check_rle(segm: dict, height: int, width: int, where: str) -> None:
    """Refuse an RLE segmentation whose ``size`` is not the image's or
    whose runs (:func:`rle_runs`) do not cover the image exactly
    (pycocotools decodes runs that fall short into uninitialised
    memory)."""
    where = f'{where}: segmentation'
    _field(segm, 'size', where, lambda value: value == [height, width],
           f"the image's [height, width] [{height}, {width}]")
    counts = _field(
        segm, 'counts', where, lambda value: rle_runs(value) is not None,
        "RLE counts (whole numbers >= 0 or COCO's compressed string)")
    covered = sum(rle_runs(counts))
    if covered != height * width:
        raise InputError(f'{where}: counts cover {covered} pixels, not the '
                         f'{height} x {width} of the image')


def _check_polygons(segm: list, height: int, width: int, where: str) -> None:
    """Refuse polygons that pycocotools would misread or fail on: none at
    all, one of fewer than 3 points (6 coordinates; 4 are read as a box)
    or of an odd number of coordinates, one with a coordinate that is not
    a finite number or lies more than an image size outside the image
    (its rasterisation would allocate without bound)."""
    if not segm:
        raise InputError(f'{where}: segmentation is empty (no polygon)')
    for index, polygon in enumerate(segm):
        polygon_at = f'{where}: segmentation polygon {index}'
        if not isinstance(polygon, list):
            raise InputError(f'{polygon_at} is {_VALUE.repr(polygon)}, not '
                             'a list of coordinates')
        if len(polygon) < 6 or len(polygon) % 2:
            raise InputError(f'{polygon_at} has {len(polygon)} coordinates '
                             '(a polygon is 3 or more x, y pairs)')
        for value in polygon:
            if not _is_number(value):
                raise InputError(f'{polygon_at} holds {_VALUE.repr(value)}'
                                 ', not a number')
        xs, ys = polygon[0::2], polygon[1::2]
        if min(xs) < -width or max(xs) > 2 * width or \
                min(ys) < -height or max(ys) > 2 * height:
            raise InputError(
                f'{polygon_at} has points far outside the height {height} x '
                f'width {width} image (x from {min(xs)} to {max(xs)}, y from '
                f'{min(ys)} to {max(ys)})')


def annotations_by_image(annotations: List[Any], path: str,
                         images: Dict[int, dict],
                         labels: Dict[int, int]) -> Dict[int, List[dict]]:
    """Image id -> annotations of the ``annotations`` of ``path``, each
    with an id listed once, the id of an image of ``images``, a category
    of ``labels``, an ``area`` (the painting order) and a segmentation
    pycocotools reads (:func:`_check_polygons`, :func:`_check_rle`)."""
    by_image, seen = {}, set()
    for index, ann in enumerate(annotations):
        where = f'{path}: annotations[{index}]'
        ann_id = _field(_record(ann, where), 'id', where, _is_int,
                        'a whole number')
        where = f'{path}: annotation {ann_id}'
        image_id = _field(ann, 'image_id', where, _is_int, 'a whole number')
        if image_id not in images:
            raise InputError(f'{where}: image_id {image_id} is no image of '
                             'images')
        where = f'{path}: image {image_id}, annotation {ann_id}'
        if ann_id in seen:
            raise InputError(f'{where}: id listed twice in annotations')
        seen.add(ann_id)
        _field(ann, 'category_id', where,
               lambda value: _is_int(value) and value in labels,
               f'one of the {len(labels)} category ids')
        _field(ann, 'area', where,
               lambda value: _is_number(value) and value >= 0, 'a number >= 0')
        segm = _field(ann, 'segmentation', where,
                      lambda value: isinstance(value, (list, dict)),
                      'polygons or RLE')
        info = images[image_id]
        check = _check_polygons if isinstance(segm, list) else _check_rle
        check(segm, info['height'], info['width'], where)
        by_image.setdefault(image_id, []).append(ann)
    return by_image


def check_image_file(info: dict, source: str, where: str) -> None:
    """Refuse an image file whose size (read from its header, no pixel
    decoded) is not the record's ``height`` x ``width``, or that does not
    read as an image."""
    try:
        with Image.open(source) as image:
            width, height = image.size
    except (OSError, Image.DecompressionBombError) as e:
        raise InputError(f'{where}: {info["file_name"]} does not read as an '
                         f'image ({one_line(e)})') from None
    if (height, width) != (info['height'], info['width']):
        raise InputError(f'{where}: height {info["height"]} x width '
                         f'{info["width"]} is not the size of '
                         f'{info["file_name"]} ({height} x {width})')
