"""A procedural weakly-supervised segmentation demo: "shape animals".

Each object is a *body*, a larger ellipse whose class evidence is a weak
striped texture at a class-specific orientation, and a *part* (a "head"), a
small disk in a saturated class colour at one end of the body. The part is
the most discriminative evidence, so a plain CAM tends to cover only the
part; erasing the part leaves the stripes for an adversary to find, so the
localizer of adversarial erasing (Stammes et al., arXiv 2011.04626) has to
spread into the body. The background is noise with a smooth gradient plus
class-agnostic distractors: ellipses and rectangles in the bodies' colours
with other textures, and grey disks the size of a part.

:func:`generate_demo_voc` writes a PASCAL VOC style tree (images, masks for
evaluation only, XML annotations with the image labels, split lists). The
five classes carry VOC names and VOC label values (``VOC_LABELS``), so
:class:`~mmadv.datasets.VOCImageLabelDataset`, mmseg's
``PascalVOCDataset``, ``IoUMetric`` and the stage-2 tools read it as VOC
(classes absent from the demo score NaN and drop out of the mean, as in
``IoUMetric``). ``shapes='toy_objects'`` draws a second set
(:data:`TOY_OBJECTS`: 3 classes of its own, labels 1-3, bodies of three
shapes), the "own data" example. From the command line::

    python -m mmadv.datasets.demo_shapes data/demo_shapes --seed 0
    python -m mmadv.datasets.demo_shapes data/toy_objects --shapes \
        toy_objects --size 96
"""
import argparse
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from mmseg.datasets import PascalVOCDataset

from ..utils.console import progress_bar
from ..utils.errors import ConfigError, MMAdvError, OutputExistsError

# the demo's foreground classes, with their VOC names and labels, so that
# VOC's datasets, metrics and tools read the demo unchanged
DEMO_CLASSES = ('bird', 'cat', 'cow', 'dog', 'sheep')
VOC_LABELS = tuple(
    PascalVOCDataset.METAINFO['classes'].index(c) for c in DEMO_CLASSES)
# RGB colour of each foreground class's part: saturated, far apart in hue
PART_COLOURS = ((225, 40, 40), (40, 200, 50), (45, 80, 235), (235, 215, 35),
                (215, 45, 215))
# orientation (degrees) of each foreground class's body stripes
STRIPE_ANGLES = (0., 36., 72., 108., 144.)
SPLITS = ('train_aug', 'val')
# the demo's size: images per split and image side
NUM_TRAIN, NUM_VAL, IMAGE_SIZE = 1600, 200, 64
DONE_FILE = 'DONE'
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ShapeSet:
    """The classes of a procedural data set and how each is drawn.

    Args:
        name (str): The set's name (the XML ``<folder>``).
        classes (tuple[str]): Foreground class names.
        labels (tuple[int]): Mask value of each class.
        part_colours (tuple): RGB of each class's part.
        stripe_angles (tuple[float]): Orientation (degrees) of each
            class's body stripes.
        bodies (tuple[str]): Shape of each class's body: ``'ellipse'``,
            ``'rectangle'`` or ``'diamond'`` (semi-axes or half sides
            ``a`` along the body's angle and ``b`` across it).
    """
    name: str
    classes: Tuple[str, ...]
    labels: Tuple[int, ...]
    part_colours: Tuple[Tuple[int, int, int], ...]
    stripe_angles: Tuple[float, ...]
    bodies: Tuple[str, ...]


# the demo: "shape animals" of 5 VOC classes, VOC's labels
DEMO_SHAPES = ShapeSet('demo_shapes', DEMO_CLASSES, VOC_LABELS, PART_COLOURS,
                       STRIPE_ANGLES, ('ellipse', ) * 5)
# a second set, for "your own data": 3 classes of their own (labels 1-3)
# with bodies of three shapes, other part colours and stripe angles,
# generated at 96 px (configs/demo/_base_/toy_objects.py)
TOY_OBJECTS = ShapeSet('toy_objects', ('kite', 'boat', 'lamp'), (1, 2, 3),
                       ((255, 140, 0), (0, 175, 175), (150, 60, 230)),
                       (30., 90., 150.), ('diamond', 'rectangle', 'ellipse'))
SHAPE_SETS = {s.name: s for s in (DEMO_SHAPES, TOY_OBJECTS)}


def _grid(size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel centre coordinates ``(yy, xx)``, each ``(size, size)``."""
    coords = np.arange(size, dtype=np.float64)
    return np.meshgrid(coords, coords, indexing='ij')


def _ellipse(yy, xx, cy, cx, a, b, theta) -> np.ndarray:
    """Boolean mask of an ellipse with semi-axes ``a`` (along ``theta``,
    radians) and ``b``."""
    cos, sin = math.cos(theta), math.sin(theta)
    u = (xx - cx) * cos + (yy - cy) * sin
    v = (yy - cy) * cos - (xx - cx) * sin
    return (u / a)**2 + (v / b)**2 <= 1.


def _rectangle(yy, xx, cy, cx, a, b, theta) -> np.ndarray:
    """Boolean mask of a rotated rectangle of half sides ``a`` and ``b``."""
    cos, sin = math.cos(theta), math.sin(theta)
    u = (xx - cx) * cos + (yy - cy) * sin
    v = (yy - cy) * cos - (xx - cx) * sin
    return (np.abs(u) <= a) & (np.abs(v) <= b)


def _diamond(yy, xx, cy, cx, a, b, theta) -> np.ndarray:
    """Boolean mask of a rotated rhombus of half diagonals ``a`` and
    ``b``."""
    cos, sin = math.cos(theta), math.sin(theta)
    u = (xx - cx) * cos + (yy - cy) * sin
    v = (yy - cy) * cos - (xx - cx) * sin
    return np.abs(u) / a + np.abs(v) / b <= 1.


BODIES = dict(ellipse=_ellipse, rectangle=_rectangle, diamond=_diamond)


def _stripes(yy, xx, angle_deg, period, phase) -> np.ndarray:
    """Sinusoidal stripes in [-1, 1] whose crests run along
    ``angle_deg`` (the wave travels perpendicular to them)."""
    normal = math.radians(angle_deg + 90.)
    t = xx * math.cos(normal) + yy * math.sin(normal)
    return np.sin(2 * math.pi * t / period + phase)


def _body_colour(rng: np.random.Generator) -> np.ndarray:
    """Class-agnostic RGB colour of bodies and distractors."""
    return rng.uniform(75., 185.) + rng.uniform(-15., 15., 3)


def render_demo_image(rng: np.random.Generator,
                      size: int = 64,
                      body_contrast: float = 28.,
                      stripe_period: float = 5.,
                      noise: float = 14.,
                      num_distractors: Tuple[int, int] = (2, 4),
                      num_decoys: Tuple[int, int] = (1, 2),
                      two_objects_prob: float = 0.4,
                      shapes: ShapeSet = DEMO_SHAPES
                      ) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """Draw one image.

    Args:
        rng (np.random.Generator): the only source of randomness.
        size (int): image side in pixels; shapes scale with it.
        body_contrast (float): amplitude of the body stripes (0-255
            scale); the strength of the body's class evidence.
        stripe_period (float): stripe period in pixels at ``size=64``.
        noise (float): standard deviation of the pixel noise.
        num_distractors (tuple[int, int]): inclusive range of the number of
            textured class-agnostic shapes.
        num_decoys (tuple[int, int]): inclusive range of the number of grey
            part-sized disks.
        two_objects_prob (float): probability of a second object (of
            another class) when it fits without overlap.
        shapes (ShapeSet): the classes and how they are drawn. Default:
            the demo's.

    Returns:
        tuple: RGB image ``(size, size, 3)`` uint8, mask ``(size, size)``
        uint8 (0 background, ``shapes.labels[c]`` for class ``c``) and
        one dict per object with ``label`` (class index ``c``), ``bbox``
        (0-based inclusive ``x1, y1, x2, y2``), ``part`` and ``body``
        (boolean masks, the part on top of the body).
    """
    scale = size / 64.
    yy, xx = _grid(size)
    period = stripe_period * scale
    # background: tinted grey with a smooth gradient
    img = np.empty((size, size, 3))
    slope_y, slope_x = rng.uniform(-0.5, 0.5, 2) / scale
    img[:] = (rng.uniform(95., 165.) + rng.uniform(-10., 10., 3))
    img += (slope_y * (yy - size / 2) + slope_x * (xx - size / 2))[..., None]

    # class-agnostic textured shapes in the bodies' colours
    for _ in range(rng.integers(num_distractors[0],
                                num_distractors[1] + 1)):
        draw = _ellipse if rng.random() < 0.5 else _rectangle
        shape = draw(yy, xx, *rng.uniform(0, size, 2),
                     rng.uniform(5., 13.) * scale, rng.uniform(3.5, 8.) *
                     scale, rng.uniform(0, math.pi))
        kind = rng.integers(3)
        if kind == 0:  # checkerboard
            cell = rng.uniform(2., 3.5) * scale
            texture = np.where(
                (np.floor(yy / cell) + np.floor(xx / cell)) % 2, 1., -1.)
        elif kind == 1:  # speckles
            texture = rng.uniform(-1., 1., (size, size))
        else:  # plain
            texture = np.zeros((size, size))
        img[shape] = _body_colour(rng) + \
            body_contrast * texture[shape][:, None]
    # grey disks the size of a part
    for _ in range(rng.integers(num_decoys[0], num_decoys[1] + 1)):
        disk = _ellipse(yy, xx, *rng.uniform(0, size, 2),
                        *(rng.uniform(3.5, 4.5, 1) * scale).repeat(2), 0.)
        grey = rng.choice([rng.uniform(25., 60.), rng.uniform(200., 235.)])
        img[disk] = grey + rng.uniform(-8., 8., 3)

    # objects: 1 or 2 of different classes, not overlapping
    mask = np.zeros((size, size), np.uint8)
    taken = np.zeros((size, size), bool)
    num_objects = 2 if rng.random() < two_objects_prob else 1
    labels = rng.choice(len(shapes.classes), num_objects, replace=False)
    objects = []
    for label in labels:
        for _ in range(30):
            a, b = rng.uniform(10., 15.) * scale, rng.uniform(6., 9.) * scale
            radius = rng.uniform(3.5, 4.5) * scale
            theta = rng.uniform(0, 2 * math.pi)
            cy, cx = rng.uniform(0, size, 2)
            body = BODIES[shapes.bodies[label]](yy, xx, cy, cx, a, b, theta)
            part = _ellipse(yy, xx, cy + (a + 0.4 * radius) * math.sin(theta),
                            cx + (a + 0.4 * radius) * math.cos(theta), radius,
                            radius, 0.)
            obj = body | part
            rows, cols = np.nonzero(obj)
            inside = (rows.size and rows.min() > 0 and cols.min() > 0
                      and rows.max() < size - 1 and cols.max() < size - 1)
            if inside and not (obj & taken).any():
                break
        else:
            continue  # no room: fewer objects
        stripes = _stripes(yy, xx, shapes.stripe_angles[label], period,
                           rng.uniform(0, 2 * math.pi))
        img[body] = _body_colour(rng) + \
            body_contrast * stripes[body][:, None]
        img[part] = np.asarray(shapes.part_colours[label]) + \
            rng.uniform(-15., 15., 3)
        mask[obj] = shapes.labels[label]
        kernel = np.ones((5, 5), np.uint8)
        taken |= cv2.dilate(obj.astype(np.uint8), kernel) > 0
        objects.append(
            dict(
                label=int(label),
                bbox=(int(cols.min()), int(rows.min()), int(cols.max()),
                      int(rows.max())),
                part=part,
                body=body & ~part))
    img += rng.normal(0., noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), mask, objects


def voc_annotation(name: str, size: int, objects: List[dict],
                   shapes: ShapeSet = DEMO_SHAPES) -> str:
    """VOC XML of one image (boxes 1-based, as in VOC)."""
    lines = [
        '<annotation>', f'\t<folder>{shapes.name}</folder>',
        f'\t<filename>{name}.jpg</filename>',
        f'\t<size><width>{size}</width><height>{size}</height>'
        '<depth>3</depth></size>', '\t<segmented>1</segmented>'
    ]
    for obj in objects:
        x1, y1, x2, y2 = obj['bbox']
        lines += [
            '\t<object>', f'\t\t<name>{shapes.classes[obj["label"]]}</name>',
            '\t\t<pose>Unspecified</pose>', '\t\t<truncated>0</truncated>',
            '\t\t<difficult>0</difficult>',
            f'\t\t<bndbox><xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin>'
            f'<xmax>{x2 + 1}</xmax><ymax>{y2 + 1}</ymax></bndbox>',
            '\t</object>'
        ]
    return '\n'.join(lines + ['</annotation>']) + '\n'


def _done_record(root: str) -> Optional[dict]:
    path = osp.join(root, DONE_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def generate_demo_voc(root: str,
                      seed: int = 0,
                      num_train: int = NUM_TRAIN,
                      num_val: int = NUM_VAL,
                      size: int = IMAGE_SIZE,
                      show_progress: bool = True,
                      shapes: str = DEMO_SHAPES.name,
                      **render_kwargs) -> str:
    """Write the demo data set (or another :class:`ShapeSet`) as a PASCAL
    VOC tree under ``root``.

    Deterministic: image ``i`` of a split is drawn from
    ``np.random.default_rng([seed, split, i])``, so the same arguments give
    identical files, and a smaller set is a prefix of a larger one.
    Written:

    - ``JPEGImages/<name>.jpg``: ``size`` x ``size`` images (quality 95).
    - ``SegmentationClass/<name>.png``: single-channel class indices, 0
      background, ``labels[c]`` of the set (the demo: ``VOC_LABELS``) on
      the part and body of class ``c``
      (for evaluation only; 255 nowhere).
    - ``Annotations/<name>.xml``: one ``<object>`` per object, the image
      labels.
    - ``ImageSets/Segmentation/{train_aug,val}.txt``: ``train_NNNNNN`` and
      ``val_NNNNNN`` names.
    - ``DONE``: JSON of the generation arguments, written last.

    The tree is written into a temporary folder beside ``root`` and renamed
    to ``root`` when complete. If ``root`` already holds a tree made with
    the same arguments nothing is done.

    Args:
        root (str): output folder.
        seed (int): data seed. Default: 0.
        num_train (int): training images. Default: 1600.
        num_val (int): validation images. Default: 200.
        size (int): image side in pixels. Default: 64.
        show_progress (bool): show an mmengine progress bar.
        shapes (str): the set of :data:`SHAPE_SETS`: ``'demo_shapes'``
            (the demo) or ``'toy_objects'``. Default: the demo.
        **render_kwargs: :func:`render_demo_image` arguments
            (``body_contrast``, ``noise``, ...).

    Returns:
        str: ``root``.

    Raises:
        OutputExistsError: ``root`` exists but is not a finished tree with
            these arguments.
    """
    if shapes not in SHAPE_SETS:
        raise ConfigError(f'shapes must be one of {sorted(SHAPE_SETS)}, '
                          f'got {shapes!r}')
    if min(num_train, num_val) < 1:
        raise ConfigError('the demo needs at least one training and one '
                          f'validation image, got {num_train} and {num_val}')
    record = dict(
        version=FORMAT_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        size=size,
        render=render_kwargs)
    if shapes != DEMO_SHAPES.name:  # the demo's record as it always was
        record['shapes'] = shapes
    root = osp.abspath(root)
    if osp.isdir(root) and not os.listdir(root):
        os.rmdir(root)
    if osp.exists(root):
        done = _done_record(root)
        if done == json.loads(json.dumps(record)):
            return root
        raise OutputExistsError(
            f'{root} exists and is not a demo tree made with {record} '
            f'(found {done}); remove it or choose another folder')
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.', dir=parent)
    try:
        _write_tree(tmp, record, render_kwargs, show_progress)
        try:
            os.rename(tmp, root)
        except OSError:
            # another process finished first: keep its tree if it matches
            if _done_record(root) != json.loads(json.dumps(record)):
                raise
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    return root


def _write_tree(out: str, record: dict, render_kwargs: Dict,
                show_progress: bool) -> None:
    folders = dict(
        img='JPEGImages',
        seg='SegmentationClass',
        xml='Annotations',
        lists='ImageSets/Segmentation')
    for folder in folders.values():
        os.makedirs(osp.join(out, folder))
    counts = dict(train_aug=record['num_train'], val=record['num_val'])
    size = record['size']
    shapes = SHAPE_SETS[record.get('shapes', DEMO_SHAPES.name)]
    with progress_bar(sum(counts.values()) if show_progress else 0) as bar:
        for split_id, split in enumerate(SPLITS):
            names = []
            for i in range(counts[split]):
                name = f'{split.split("_")[0]}_{i:06d}'
                rng = np.random.default_rng([record['seed'], split_id, i])
                img, mask, objects = render_demo_image(
                    rng, size, **render_kwargs, shapes=shapes)
                cv2.imwrite(
                    osp.join(out, folders['img'], name + '.jpg'),
                    cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
                cv2.imwrite(
                    osp.join(out, folders['seg'], name + '.png'), mask)
                with open(osp.join(out, folders['xml'], name + '.xml'),
                          'w') as f:
                    f.write(voc_annotation(name, size, objects, shapes))
                names.append(name)
                bar.update()
            with open(osp.join(out, folders['lists'], split + '.txt'),
                      'w') as f:
                f.write(''.join(n + '\n' for n in names))
    with open(osp.join(out, DONE_FILE), 'w') as f:
        json.dump(record, f, indent=2)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the procedural demo data set (VOC layout).')
    parser.add_argument('out_dir', help='output folder, e.g. '
                        'data/demo_shapes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=NUM_TRAIN)
    parser.add_argument('--num-val', type=int, default=NUM_VAL)
    parser.add_argument('--size', type=int, default=IMAGE_SIZE)
    parser.add_argument(
        '--shapes', default=DEMO_SHAPES.name, choices=sorted(SHAPE_SETS),
        help='the classes: the demo\'s, or toy_objects (3 classes of '
        'their own; configs/demo/_base_/toy_objects.py, at --size 96)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    try:
        return generate_demo_voc(
            args.out_dir,
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val,
            size=args.size,
            shapes=args.shapes)
    except MMAdvError as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    main()
