"""Shared fixtures: a tiny, deterministic PASCAL VOC tree, and the demo
pipeline run once at tiny sizes.

Other test files get the tree from the ``tiny_voc`` fixture, or make a
variant with ``from conftest import make_tiny_voc``; ``demo_run`` is the
README's Python example at tiny sizes, shared by the session.

The suite runs in two processes (``-n 2``, pytest-xdist's ``--dist
loadfile`` of setup.cfg): each test file in one of them, the files of
``demo_run`` in the same one, each process with its share of the
cores.
"""
import contextlib
import gc
import io
import multiprocessing
import os
import pathlib
from typing import Tuple, Union

import cv2
import numpy as np
import pytest

REPO = pathlib.Path(__file__).parents[1]
# what shrinks the demo pipeline to seconds (run_pipeline's arguments)
TINY = dict(
    cfg_options={
        'train_cfg.max_iters': 4,
        'model.localizer_iters': 2,
        'model.adversary_iters': 2,
        'train_dataloader.batch_size': 4
    },
    model_cfg_options=dict(
        seg={
            'train_cfg.max_iters': 3,
            'train_dataloader.batch_size': 4
        },
        random_walk={
            'train_cfg.max_iters': 2,
            'train_dataloader.batch_size': 4
        },
        irn={
            'train_cfg.max_iters': 2,
            'train_dataloader.batch_size': 4
        }))
TINY_DATA = dict(num_train=12, num_val=6)

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle',
               'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
               'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')
VOC_PALETTE = ((0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128),
               (128, 0, 128), (0, 128, 128), (128, 128, 128), (64, 0, 0),
               (192, 0, 0), (64, 128, 0), (192, 128, 0), (64, 0, 128),
               (192, 0, 128), (64, 128, 128), (192, 128, 128), (0, 64, 0),
               (128, 64, 0), (0, 192, 0), (128, 192, 0), (0, 64, 128))


def voc_xml(name: str, size: Tuple[int, int], objects: list) -> str:
    """VOC XML annotation text.

    Args:
        name (str): Image name without suffix.
        size (tuple[int, int]): Image ``(H, W)``.
        objects (list[tuple[str, tuple]]): ``(class name, (x1, y1, x2,
            y2))`` with 0-based inclusive corners.

    Returns:
        str: The ``<annotation>`` document (VOC boxes are 1-based).
    """
    height, width = size
    parts = [
        '<annotation>', '<folder>VOC2012</folder>',
        f'<filename>{name}.jpg</filename>',
        f'<size><width>{width}</width><height>{height}</height>'
        '<depth>3</depth></size>', '<segmented>1</segmented>'
    ]
    for cls_name, (x1, y1, x2, y2) in objects:
        parts.append(
            f'<object><name>{cls_name}</name><pose>Unspecified</pose>'
            '<truncated>0</truncated><difficult>0</difficult>'
            f'<bndbox><xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin>'
            f'<xmax>{x2 + 1}</xmax><ymax>{y2 + 1}</ymax></bndbox></object>')
    parts.append('</annotation>')
    return '\n'.join(parts) + '\n'


def miou_by_hand(pairs, num_classes: int = 21) -> float:
    """mIoU of ``(prediction, ground truth)`` label maps over
    ``num_classes`` classes: pixels where either is 255 left out, each
    class's intersection and union summed over the maps, the classes with
    a union averaged."""
    intersection, union = np.zeros(num_classes), np.zeros(num_classes)
    for pred, gt in pairs:
        valid = (pred != 255) & (gt != 255)
        for c in range(num_classes):
            p, g = valid & (pred == c), valid & (gt == c)
            intersection[c] += (p & g).sum()
            union[c] += (p | g).sum()
    return float((intersection[union > 0] / union[union > 0]).mean())


def make_tiny_voc(root: Union[str, pathlib.Path],
                  num_images: int = 6,
                  size: Tuple[int, int] = (48, 64),
                  seed: int = 0) -> pathlib.Path:
    """Write a tiny VOC2012-style tree under ``root``.

    Image ``i`` (named ``2007_00000i``) holds ``1 + i % 2`` foreground
    classes drawn without replacement, each a rectangle of its VOC palette
    colour in its own vertical strip, on a grey noisy background.
    Written files:

    - ``JPEGImages/<name>.jpg``: BGR, ``size`` = ``(H, W)``.
    - ``SegmentationClassAug/<name>.png``: single-channel uint8, 0 for
      background, ``c + 1`` inside the rectangle of foreground class ``c``,
      255 on the rectangle's outermost pixels (as VOC's boundaries).
    - ``Annotations/<name>.xml``: one ``<object>`` per rectangle.
    - ``ImageSets/Segmentation/{train_aug,val,trainval}.txt``: the last
      ``max(1, num_images // 3)`` images are ``val``, the others
      ``train_aug``.
    - ``cls_labels.npy``: PSA's format, a dict ``name -> float32 (20,)``
      multi-hot, the ground truth of the tree.

    Args:
        root (str | Path): Folder to write into (created).
        num_images (int): Number of images, at least 2. Defaults to 6.
        size (tuple[int, int]): Image ``(H, W)``, at least ``(16, 32)``.
            Defaults to ``(48, 64)``.
        seed (int): Seed of the class choice, boxes and noise.
            Defaults to 0.

    Returns:
        Path: ``root``.
    """
    root = pathlib.Path(root)
    for folder in ('JPEGImages', 'SegmentationClassAug', 'Annotations',
                   'ImageSets/Segmentation'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    height, width = size
    names, cls_labels = [], {}
    for i in range(num_images):
        name = f'2007_{i:06d}'
        img = rng.normal(110., 25., (height, width, 3))
        mask = np.zeros((height, width), np.uint8)
        fg_classes = rng.choice(20, size=1 + i % 2, replace=False)
        strip = width // len(fg_classes)
        objects = []
        for j, fg in enumerate(fg_classes):
            x1 = j * strip + int(rng.integers(0, strip // 4 + 1))
            x2 = (j + 1) * strip - 1 - int(rng.integers(0, strip // 4 + 1))
            y1 = int(rng.integers(0, height // 4 + 1))
            y2 = height - 1 - int(rng.integers(0, height // 4 + 1))
            bgr = np.array(VOC_PALETTE[fg + 1][::-1], np.float64)
            box = (slice(y1, y2 + 1), slice(x1, x2 + 1))
            img[box] = bgr + rng.normal(0., 8., img[box].shape)
            mask[box] = 255
            mask[y1 + 1:y2, x1 + 1:x2] = fg + 1
            objects.append((VOC_CLASSES[fg + 1], (x1, y1, x2, y2)))
        img = np.clip(img, 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'), img)
        cv2.imwrite(str(root / 'SegmentationClassAug' / f'{name}.png'), mask)
        (root / 'Annotations' / f'{name}.xml').write_text(
            voc_xml(name, size, objects))
        labels = np.zeros(20, np.float32)
        labels[fg_classes] = 1.
        cls_labels[name] = labels
        names.append(name)
    num_val = max(1, num_images // 3)
    splits = dict(
        train_aug=names[:-num_val], val=names[-num_val:], trainval=names)
    for split, split_names in splits.items():
        lines = ''.join(f'{n}\n' for n in split_names)
        (root / 'ImageSets/Segmentation' / f'{split}.txt').write_text(lines)
    np.save(root / 'cls_labels.npy', cls_labels)
    return root


def pytest_configure(config):
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 1))
    if workers > 1:  # torch's threads: this process's share of the cores
        import torch
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_finish(session):
    """What the test files imported (torch, mmseg, timm: some 4 x 10^5
    objects) is left out of the garbage collector's passes from now on:
    mmengine runs a full pass at every dataset it builds (0.2-0.3 s each
    in this process before)."""
    gc.collect()
    gc.freeze()


# the test files of ``demo_run``: their tests add rows to its work
# directory, and run in one process
DEMO_RUN_FILES = ('tests/apis/test_pipeline.py',
                  'tests/apis/test_seg_protocols.py',
                  'tests/refinements/test_refinements.py',
                  'tests/tools/test_tools.py')


def pytest_collection_modifyitems(items):
    """A test of ``demo_run`` outside ``DEMO_RUN_FILES`` is refused."""
    for item in items:
        path = item.nodeid.split('::', 1)[0]
        if 'demo_run' in item.fixturenames and path not in DEMO_RUN_FILES:
            raise pytest.UsageError(f'{item.nodeid} uses demo_run: add '
                                    f'{path} to DEMO_RUN_FILES (conftest)')


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's ``--dist loadfile`` (each test file in one process:
    its module fixtures made once), with the files of ``demo_run`` as one
    file."""
    if config.getvalue('dist') != 'loadfile':
        return None
    from xdist.scheduler import LoadFileScheduling

    class DemoRunScheduling(LoadFileScheduling):

        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return 'demo_run' if path in DEMO_RUN_FILES else path

    return DemoRunScheduling(config, log)


@pytest.fixture
def new_children():
    """A function giving the child processes started since the test began
    (other tests' leftovers, e.g. a Runner's persistent DataLoader
    workers, are not this test's)."""
    before = {p.pid for p in multiprocessing.active_children()}
    return lambda: [p for p in multiprocessing.active_children()
                    if p.pid not in before]


@pytest.fixture(scope='session')
def tiny_voc(tmp_path_factory) -> pathlib.Path:
    """A read-only tiny VOC tree (``make_tiny_voc`` defaults), shared by the
    session; tests that write into a tree make their own."""
    return make_tiny_voc(tmp_path_factory.mktemp('tiny_voc'))


def load_tool(path: str):
    """The command-line tool ``tools/<path>`` as a module, for its public
    interface only: ``main(argv)`` (and ``parse_args(argv)``), the
    command line a user types, run in this process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        pathlib.Path(path).stem, REPO / 'tools' / path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def tool_error(path: str, argv: list) -> str:
    """``tools/<path>``'s ``main(argv)`` run in this process, from the
    repository as a user types it, ending in an error of one line (exit
    status 1, no traceback); that line, ``<prog>: error: ...``."""
    with pytest.MonkeyPatch.context() as patch, \
            pytest.raises(SystemExit) as info:
        patch.chdir(REPO)
        load_tool(path).main(list(map(str, argv)))
    line = info.value.code
    assert isinstance(line, str) and '\n' not in line, line
    return line


def readme_example() -> str:
    """The Python block of the README's quickstart (the demo from
    Python)."""
    section = (REPO / 'README.md').read_text().split('## Quickstart', 1)[1]
    return section.split('```python\n', 1)[1].split('```', 1)[0]


@pytest.fixture(scope='session')
def demo_run(tmp_path_factory):
    """The README example, run in a fresh folder at tiny sizes (the
    pipeline given ``TINY``, the data generator ``TINY_DATA``), with no
    subprocess; its rows, console output and arguments."""
    import types

    import mmadv.apis
    from mmadv.apis import run_pipeline
    from mmadv.datasets import demo_shapes
    from mmadv.pipeline import launcher

    folder = tmp_path_factory.mktemp('readme')
    calls = []

    def tiny_pipeline(configs, **kwargs):
        calls.append((configs, kwargs))
        return run_pipeline(configs, **kwargs, **TINY)

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f'a subprocess was started: {args}')

    generate = demo_shapes.generate_demo_voc
    console = io.StringIO()
    namespace = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(mmadv.apis, 'run_pipeline', tiny_pipeline)
        patch.setattr(demo_shapes, 'generate_demo_voc',
                      lambda root, **kwargs: generate(root, **kwargs,
                                                      **TINY_DATA))
        # torchrun only with gpus > 1
        patch.setattr(launcher, 'subprocess',
                      types.SimpleNamespace(Popen=no_subprocess))
        with contextlib.redirect_stdout(console):
            exec(readme_example(), namespace)
    configs, kwargs = calls[0]
    return dict(
        work_dir=str(folder / 'work_dirs' / 'demo'),
        folder=folder,
        rows=namespace['rows'],
        console=console.getvalue(),
        configs=configs,
        kwargs=kwargs)
