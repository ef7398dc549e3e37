"""PSA's refinement end to end on tiny data: maps -> affinity labels
(:func:`mmadv.apis.write_affinity_labels`) -> AffinityNet training
(configs/demo/affinity_demo.py, :func:`mmadv.apis.train`) -> refined maps
(:func:`mmadv.apis.random_walk_maps`) in the stage-2 format, resumable."""
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_tiny_voc
from mmengine.config import Config
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import (InputError, boundary_walk_maps, init_model,
                        random_walk_maps, train, write_affinity_labels)
from mmadv.datasets import (load_maps, map_path, read_label_png, read_meta,
                            save_maps, write_meta)

REPO = Path(__file__).parents[2]
AFFINITY_DEMO = str(REPO / 'configs/demo/affinity_demo.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Blurred GT maps of a 6-image tree, their affinity labels and an
    AffinityNet trained on them for 2 iterations."""
    root = tmp_path_factory.mktemp('rw')
    voc = make_tiny_voc(root / 'voc', num_images=6)
    ann = voc / 'ImageSets/Segmentation/train_aug.txt'
    names = ann.read_text().split()
    map_dir = root / 'maps'
    for name in names:
        gt = np.array(Image.open(voc / 'SegmentationClassAug' / f'{name}.png'))
        classes = np.array(sorted(set(np.unique(gt)) - {0, 255})) - 1
        maps = np.stack([
            cv2.GaussianBlur((gt == c + 1).astype(np.float32), (0, 0), 3.)
            for c in classes
        ])
        save_maps(map_path(str(map_dir), name), classes,
                  maps / maps.max((1, 2), keepdims=True))
    write_meta(
        str(map_dir),
        split='train_aug',
        ann_file=str(ann),
        num_images=len(names))
    labels = root / 'affinity_labels'
    summary = write_affinity_labels(str(map_dir), str(voc / 'JPEGImages'),
                                    str(labels), 'train_aug', (4, 32), None)
    assert summary['written'] == len(names)
    options = {
        'train_dataloader.dataset.data_root': str(voc),
        'train_dataloader.dataset.data_prefix.seg_map_path': str(labels),
    }
    cfg = Config.fromfile(AFFINITY_DEMO)
    cfg.merge_from_dict({
        **options,
        'train_dataloader.batch_size': 2,
        'train_cfg.max_iters': 2,
        'work_dir': str(root / 'affinity'),
    })
    train(cfg)
    checkpoint = root / 'affinity' / 'iter_2.pth'
    assert checkpoint.is_file()
    return voc, names, map_dir, labels, checkpoint, options


def test_affinity_labels_are_confident_regions(trained):
    voc, names, map_dir, labels, _, _ = trained
    for name in names:
        label = read_label_png(str(labels / f'{name}.png'))
        classes, maps = load_maps(map_path(str(map_dir), name))
        assert set(np.unique(label)) <= {0, 255, *(classes + 1).tolist()}
        top = maps.max(0)
        # (1 - max)^4 < max wherever max > 0.5 (0.5^4 < 0.5): foreground;
        # (1 - max)^32 > max wherever max < 0.05: background
        assert (label[top > 0.55] != 0).all()
        assert (label[top > 0.55] != 255).all()
        assert (label[top < 0.05] == 0).all()


def test_refined_maps_in_the_stage2_format(trained, tmp_path):
    voc, names, map_dir, _, checkpoint, options = trained
    out = tmp_path / 'maps_rw'
    model = init_model(AFFINITY_DEMO, str(checkpoint), 'cpu', options)

    def walk(logt=2, split='train_aug', folder=out):
        return random_walk_maps(model, str(map_dir), split, str(folder), 16,
                                8, logt)

    stats = walk()
    assert stats == dict(total=len(names), skipped=0, written=len(names))
    meta = read_meta(str(out), 'train_aug')
    assert meta['maps'] == str(map_dir) and meta['logt'] == 2
    assert meta['stride'] == 2  # the demo's stride-2 embedding
    for name in names:
        classes, maps = load_maps(map_path(str(map_dir), name))
        rw_classes, rw_maps = load_maps(map_path(str(out), name))
        np.testing.assert_array_equal(rw_classes, classes)
        assert rw_maps.shape == maps.shape
        assert 0. <= rw_maps.min() and rw_maps.max() <= 1.
    # resumable: a removed file is the only one written again
    first = map_path(str(out), names[0])
    before = Path(map_path(str(out), names[1])).stat().st_mtime_ns
    Path(first).unlink()
    stats = walk()
    assert stats == dict(total=len(names), skipped=len(names) - 1, written=1)
    assert Path(map_path(str(out),
                         names[1])).stat().st_mtime_ns == before
    # other settings into the same folder: refused, one line
    with pytest.raises(InputError, match='other settings.*logt'):
        walk(logt=3)
    # maps of another split: refused, naming the folder
    with pytest.raises(InputError, match="maps of split 'train_aug'"):
        walk(split='val', folder=tmp_path / 'val')
    with pytest.raises(ValueError, match=r'^logt must be an integer in '
                       r'\[0, 12\], got -1$'):
        walk(logt=-1)


def test_workers_give_the_same_maps_and_one_line_errors(trained, tmp_path):
    voc, names, map_dir, _, checkpoint, options = trained
    model = init_model(AFFINITY_DEMO, str(checkpoint), 'cpu', options)
    folders = {}
    for workers in (0, 2):
        folders[workers] = tmp_path / f'rw{workers}'
        random_walk_maps(model, str(map_dir), 'train_aug',
                         str(folders[workers]), 16, 8, 2,
                         num_workers=workers)
    for name in names:
        path = map_path(str(folders[0]), name)
        other = map_path(str(folders[2]), name)
        np.testing.assert_array_equal(load_maps(path)[1], load_maps(other)[1])
    # maps of another size: named by the worker that computes them
    shutil.copytree(map_dir, tmp_path / 'small')
    small = map_path(str(tmp_path / 'small'), names[1])
    classes, maps = load_maps(small)
    save_maps(small, classes, maps[:, :40])
    with pytest.raises(InputError) as error:
        random_walk_maps(model, str(tmp_path / 'small'), 'train_aug',
                         str(tmp_path / 'out'), 16, 8, 2, num_workers=2)
    assert str(error.value) == (f'map size (40, 64) of {small} != image '
                                'size (48, 64)')


def test_images_above_max_pixels_are_refused_before_any_work(trained,
                                                             tmp_path):
    """The walks of both refinements, and labels with the CRF, refuse the
    48 x 64 images above 3,071 pixels in one line before any file is
    written; at the bound, and without the CRF, they are served."""
    voc, names, map_dir, _, checkpoint, options = trained
    model = init_model(AFFINITY_DEMO, str(checkpoint), 'cpu', options)
    image = voc / 'JPEGImages' / f'{names[0]}.jpg'
    line = (f'^image {image} is 48 x 64 = 3,072 pixels, above max_pixels '
            r'3,071 \(.*\); resize it or raise max_pixels$')
    out = tmp_path / 'out'
    with pytest.raises(InputError, match=line):
        random_walk_maps(model, str(map_dir), 'train_aug', str(out), 16, 8,
                         2, max_pixels=3071)
    # IRN's walk, refused before its model is used (here an AffinityNet)
    with pytest.raises(InputError, match=line):
        boundary_walk_maps(model, str(map_dir), 'train_aug', str(out), 5,
                           10., 2, True, max_pixels=3071)
    with pytest.raises(InputError, match=line):
        write_affinity_labels(str(map_dir), str(voc / 'JPEGImages'),
                              str(out), 'train_aug', (4, 32), dict(),
                              max_pixels=3071)
    assert not out.exists()
    summary = write_affinity_labels(str(map_dir), str(voc / 'JPEGImages'),
                                    str(out / 'labels'), 'train_aug',
                                    (4, 32), None, max_pixels=3071)
    assert summary['written'] == len(names)
    stats = random_walk_maps(model, str(map_dir), 'train_aug',
                             str(out / 'rw'), 16, 8, 2,
                             max_pixels=48 * 64)
    assert stats['written'] == len(names)
