"""Label folders (:func:`mmadv.apis.write_pseudo_labels`) from blurred,
noisy maps of the tiny VOC tree: the labeler's labels, workers, resume,
Ctrl-C, scores against the masks, and input errors."""
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_tiny_voc
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import MMAdvError, write_pseudo_labels
from mmadv.datasets import map_path, save_maps, write_meta
from mmadv.pseudo_labels import ThresholdLabeler


@pytest.fixture(scope='module')
def voc_maps(tmp_path_factory):
    """A 9-image tree and blurred, noisy maps of its 6 train_aug images
    (so that thresholds, the uncertain band and the CRF all matter)."""
    root = tmp_path_factory.mktemp('pl')
    voc = make_tiny_voc(root / 'voc', num_images=9)
    map_dir = root / 'maps'
    ann = voc / 'ImageSets/Segmentation/train_aug.txt'
    names = ann.read_text().split()
    rng = np.random.default_rng(0)
    for name in names:
        gt = np.array(Image.open(voc / 'SegmentationClassAug' / f'{name}.png'))
        classes = np.array(sorted(set(np.unique(gt)) - {0, 255})) - 1
        maps = np.stack([
            cv2.GaussianBlur((gt == c + 1).astype(np.float32), (0, 0), 4.)
            for c in classes
        ])
        maps = np.clip(maps + rng.normal(0., 0.05, maps.shape), 0., 1.)
        save_maps(map_path(str(map_dir), name), classes, maps)
    write_meta(
        str(map_dir),
        split='train_aug',
        ann_file=str(ann),
        num_images=len(names))
    return voc, map_dir, names


def run(voc, map_dir, out_dir, labeler=None, workers=1, split='train_aug',
        **kwargs):
    return write_pseudo_labels(
        str(map_dir), str(voc / 'JPEGImages'), str(out_dir), split,
        labeler or dict(type='ThresholdLabeler'), workers, **kwargs)


def files(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


PSA_CRF = dict(t=10, scale_factor=1.0)
BANDED = dict(type='ThresholdLabeler', bg_threshold=0.3,
              uncertain=(0.2, 0.4), crf=PSA_CRF)


def test_labels_equal_the_labeler(voc_maps, tmp_path):
    voc, map_dir, names = voc_maps
    out = tmp_path / 'out'
    summary = run(voc, map_dir, out, BANDED)
    assert summary == dict(
        written=6, skipped=0, scored=0, mIoU=None, seconds=summary['seconds'])
    assert sorted(files(out)) == sorted([f'{n}.png'
                                         for n in names] + ['meta.json'])
    labeler = ThresholdLabeler(0.3, (0.2, 0.4), PSA_CRF)
    for name in names:
        with np.load(map_path(str(map_dir), name)) as data:
            classes, maps = data['classes'], data['maps'].astype(np.float32)
        image = cv2.imread(str(voc / 'JPEGImages' / f'{name}.jpg'))
        expected = labeler(classes, maps, image[..., ::-1])
        with Image.open(out / f'{name}.png') as png:
            assert png.mode == 'P'
            np.testing.assert_array_equal(np.array(png), expected)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['crf'] == dict(t=10, scale_factor=1.0)
    assert meta['uncertain'] == [0.2, 0.4]
    assert meta['bg_threshold'] == 0.3
    assert meta['labeler'] == 'ThresholdLabeler'
    assert meta['map_dir'] == str(map_dir)
    assert meta['map_meta']['split'] == 'train_aug'
    assert meta['summary']['written'] == 6


def test_workers_give_the_same_files(voc_maps, tmp_path):
    voc, map_dir, _ = voc_maps
    labeler = dict(BANDED, bg_threshold=0.25)
    run(voc, map_dir, tmp_path / 'one', labeler, workers=1)
    summary = run(voc, map_dir, tmp_path / 'two', labeler, workers=2)
    assert summary['written'] == 6
    one, two = files(tmp_path / 'one'), files(tmp_path / 'two')
    one.pop('meta.json'), two.pop('meta.json')
    assert one == two


def test_resume_rewrites_only_the_missing(voc_maps, tmp_path):
    voc, map_dir, names = voc_maps
    out = tmp_path / 'out'
    run(voc, map_dir, out, workers=2)
    before = files(out)
    mtimes = {n: (out / f'{n}.png').stat().st_mtime_ns for n in names}
    (out / f'{names[2]}.png').unlink()
    summary = run(voc, map_dir, out, workers=2)
    assert (summary['written'], summary['skipped']) == (1, 5)
    after = files(out)
    before.pop('meta.json'), after.pop('meta.json')
    assert after == before
    for name in names[:2] + names[3:]:
        assert (out / f'{name}.png').stat().st_mtime_ns == mtimes[name]
    with pytest.raises(MMAdvError, match='bg_threshold: 0.25 now 0.3'):
        run(voc, map_dir, out, dict(type='ThresholdLabeler',
                                    bg_threshold=0.3))
    # another labeler into the same folder
    with pytest.raises(
            MMAdvError, match=r"affinity: None now \[4, 32\].*"
            r"labeler: 'ThresholdLabeler' now 'AffinityLabeler'"):
        run(voc, map_dir, out, dict(type='AffinityLabeler', low_alpha=4,
                                    high_alpha=32))


def test_interrupt_leaves_no_partial_file(voc_maps, tmp_path, monkeypatch):
    voc, map_dir, names = voc_maps
    crf = dict(type='ThresholdLabeler', crf=PSA_CRF)
    run(voc, map_dir, tmp_path / 'ref', crf)
    out = tmp_path / 'out'
    save = Image.Image.save
    calls = []

    def save_then_interrupt(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 3:
            Path(fp).write_bytes(b'\x89PNG half')
            raise KeyboardInterrupt
        return save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, 'save', save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(voc, map_dir, out, crf)
    assert sorted(files(out)) == sorted([f'{n}.png'
                                         for n in names[:2]] + ['meta.json'])
    monkeypatch.setattr(Image.Image, 'save', save)
    summary = run(voc, map_dir, out, crf)
    assert (summary['written'], summary['skipped']) == (4, 2)
    ref, got = files(tmp_path / 'ref'), files(out)
    ref.pop('meta.json'), got.pop('meta.json')
    assert got == ref


def independent_miou(out, gt_dir, names):
    """Per-class IoU by counting pixels class by class, over the pixels
    where neither the label nor the ground truth is 255."""
    inter, union = np.zeros(21), np.zeros(21)
    for name in names:
        pred = np.array(Image.open(out / f'{name}.png')).astype(int)
        gt = np.array(Image.open(gt_dir / f'{name}.png')).astype(int)
        keep = (pred != 255) & (gt != 255)
        for c in range(21):
            p, g = (pred == c) & keep, (gt == c) & keep
            inter[c] += (p & g).sum()
            union[c] += (p | g).sum()
    present = union > 0
    return (inter[present] / union[present]).mean()


def test_miou_against_ground_truth(voc_maps, tmp_path):
    voc, map_dir, names = voc_maps
    gt_dir = tmp_path / 'gt'
    shutil.copytree(voc / 'SegmentationClassAug', gt_dir)
    (gt_dir / f'{names[0]}.png').unlink()
    out = tmp_path / 'out'
    band = dict(type='ThresholdLabeler', uncertain=(0.2, 0.5))
    summary = run(voc, map_dir, out, band, workers=2, gt_dir=str(gt_dir),
                  json_path=str(tmp_path / 'summary.json'))
    assert summary['scored'] == 5
    saved = json.loads((tmp_path / 'summary.json').read_text())
    assert saved['mIoU'] == summary['mIoU'] and saved['written'] == 6
    assert saved['uncertain'] == [0.2, 0.5]
    expected = independent_miou(out, gt_dir, names[1:])
    assert summary['mIoU'] == pytest.approx(expected, abs=1e-12)
    assert 0.5 < summary['mIoU'] < 1.
    # kept labels are scored too
    again = run(voc, map_dir, out, band, workers=2, gt_dir=str(gt_dir))
    assert again['written'] == 0 and again['mIoU'] == summary['mIoU']


def test_input_errors(voc_maps, tmp_path):
    voc, map_dir, names = voc_maps
    none = tmp_path / 'none'
    with pytest.raises(MMAdvError, match=f'map folder {none} not found$'):
        run(voc, none, tmp_path / 'out')
    with pytest.raises(MMAdvError, match="split 'train_aug', not 'val'"):
        run(voc, map_dir, tmp_path / 'out', split='val')
    images = tmp_path / 'voc'
    shutil.copytree(voc / 'JPEGImages', images / 'JPEGImages')
    bad = images / 'JPEGImages' / f'{names[3]}.jpg'
    bad.write_bytes(b'not a jpeg')
    with pytest.raises(MMAdvError, match=f'cannot decode image {bad}$'):
        run(images, map_dir, tmp_path / 'out', workers=2)
    bad.unlink()
    with pytest.raises(MMAdvError, match=f'image {bad} not found$'):
        run(images, map_dir, tmp_path / 'out')
    left = [p.name for p in (tmp_path / 'out').iterdir()]
    assert all(not n.startswith('.') for n in left)


@pytest.mark.parametrize('bad,match', [
    ('nan', '3 map values are NaN or infinite'),
    ('class', r'class index 25 is not a foreground class \(0..19\)'),
])
def test_maps_out_of_the_format_write_no_label(voc_maps, tmp_path, bad,
                                               match):
    """NaN maps used to give a PNG of one class, class 25 a label 26 that
    only the segmentation training tripped over: now one line naming the
    map file, and no PNG of that image."""
    voc, map_dir, names = voc_maps
    maps_copy = tmp_path / 'maps'
    shutil.copytree(map_dir, maps_copy)
    path = maps_copy / f'{names[2]}.npz'
    with np.load(path) as data:
        classes, maps = data['classes'], data['maps']
    if bad == 'nan':
        maps[0, 0, :3] = np.nan
    else:
        classes[0] = 25
    np.savez_compressed(path, classes=classes, maps=maps)
    out = tmp_path / 'out'
    with pytest.raises(MMAdvError, match=f'^{path}: {match}$'):
        run(voc, maps_copy, out, workers=2)
    assert not (out / f'{names[2]}.png').exists()


def test_ground_truth_out_of_range_is_named(voc_maps, tmp_path):
    voc, map_dir, names = voc_maps
    gt_dir = tmp_path / 'gt'
    shutil.copytree(voc / 'SegmentationClassAug', gt_dir)
    bad = gt_dir / f'{names[1]}.png'
    gt = np.array(Image.open(bad))
    gt[0, 0] = 30
    Image.fromarray(gt).save(bad)
    with pytest.raises(MMAdvError, match=f'^{bad}: ground truth holds '
                       r'values \[30\] outside 0..20 and 255$'):
        run(voc, map_dir, tmp_path / 'out', gt_dir=str(gt_dir))


def test_labels_of_re_made_maps_are_refused(voc_maps, tmp_path):
    """Maps made again by another checkpoint (same folder, same names):
    the labels of the old maps are not kept as if they were theirs."""
    voc, map_dir, names = voc_maps
    maps_copy = tmp_path / 'maps'
    shutil.copytree(map_dir, maps_copy)
    out = tmp_path / 'out'
    assert run(voc, maps_copy, out)['written'] == len(names)
    meta = json.loads((maps_copy / 'meta.json').read_text())
    write_meta(str(maps_copy), **dict(meta, checkpoint_sha256='b' * 64))
    with pytest.raises(MMAdvError, match=r'holds labels made with other '
                       r"settings or maps \(map_meta.checkpoint_sha256: "
                       r"None now 'b{64}'"):
        run(voc, maps_copy, out)
    assert run(voc, maps_copy, tmp_path / 'new')['written'] == len(names)
