"""Map inference (:func:`mmadv.apis.infer_maps`) end to end on the tiny VOC
tree: outputs, resume, Ctrl-C, sharding over ranks and the errors that
must be one clear line."""
import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import VOC_CLASSES, VOC_PALETTE, make_tiny_voc
from mmengine.dataset import sampler
from test_configs import save_tiny_classifier

import mmadv  # noqa: F401  (compat shim before mmseg models)
from mmadv.apis import ConfigError, InputError, infer_maps, init_model
from mmadv.datasets import load_maps
from mmadv.pseudo_labels import map_inference, multi_scale_maps
from mmadv.pseudo_labels.image_size import R38_BYTES_PER_PIXEL

SCALES = (0.5, 1.0)
MEAN = np.float32([123.675, 116.28, 103.53])
STD = np.float32([58.395, 57.12, 57.375])


@pytest.fixture(scope='module')
def trained(tiny_voc, tmp_path_factory):
    """A config file, a checkpoint of its model, and the model."""
    folder = tmp_path_factory.mktemp('infer_cam')
    config, checkpoint, model = save_tiny_classifier(tiny_voc, str(folder))
    return dict(config=config, checkpoint=checkpoint, model=model,
                work_dir=folder / 'work', folder=folder)


def infer(trained, out, checkpoint=None, flip=True, **cfg_options):
    model = init_model(trained['config'], checkpoint or trained['checkpoint'],
                       'cpu', cfg_options)
    return infer_maps(model, 'train_aug', str(out), SCALES, flip)


def split_names(root, split='train_aug'):
    return (Path(root) / 'ImageSets/Segmentation' /
            f'{split}.txt').read_text().split()


def read_folder(folder):
    return {
        p.stem: load_maps(str(p))
        for p in sorted(Path(folder).glob('*.npz'))
    }


@pytest.fixture(scope='module')
def reference(trained, tiny_voc):
    """The maps of one uninterrupted, unsharded run."""
    folder = trained['work_dir'] / 'maps_train_aug'
    stats = infer(trained, folder)
    assert stats == dict(total=4, skipped=0, written=4)
    return folder, read_folder(folder)


def test_writes_one_map_file_per_image(trained, reference, tiny_voc):
    folder, maps = reference
    names = split_names(tiny_voc)
    assert sorted(maps) == sorted(names) and len(names) == 4
    cls_labels = np.load(tiny_voc / 'cls_labels.npy', allow_pickle=True)
    model = trained['model']
    for name in names:
        classes, fused = maps[name]
        assert classes.dtype == np.int64
        assert classes.tolist() == np.flatnonzero(
            cls_labels.item()[name]).tolist()
        assert fused.shape == (len(classes), 48, 64)
        assert 0 <= fused.min() and fused.max() <= 1
        np.testing.assert_allclose(fused.max(axis=(1, 2)), 1, atol=1e-3)
        with np.load(folder / f'{name}.npz') as raw:
            assert raw['maps'].dtype == np.float16
        # the same maps from the image read and normalised here (RGB)
        bgr = cv2.imread(str(tiny_voc / 'JPEGImages' / f'{name}.jpg'))
        image = (bgr[..., ::-1] - MEAN) / STD
        expected = multi_scale_maps(
            model.localizer,
            torch.from_numpy(image.transpose(2, 0, 1).copy()),
            torch.from_numpy(classes), (0.5, 1.0), True)
        np.testing.assert_allclose(fused, expected.numpy(), atol=1e-3)
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta == dict(
        split='train_aug',
        ann_file=str(tiny_voc / 'ImageSets/Segmentation/train_aug.txt'),
        num_images=4,
        # the data set's labels: VOC's
        classes=list(VOC_CLASSES),
        palette=[list(c) for c in VOC_PALETTE],
        config=trained['config'],
        checkpoint=trained['checkpoint'],
        checkpoint_sha256=hashlib.sha256(
            Path(trained['checkpoint']).read_bytes()).hexdigest(),
        scales=[0.5, 1.0],
        flip=True)


def test_resumes_only_missing_files(trained, reference, tmp_path):
    _, maps = reference
    out = tmp_path / 'maps'
    infer(trained, out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob('*.npz')}
    gone = sorted(mtimes)[1]
    (out / gone).unlink()
    stats = infer(trained, out)
    assert stats == dict(total=4, skipped=3, written=1)
    for p in out.glob('*.npz'):
        if p.name != gone:
            assert p.stat().st_mtime_ns == mtimes[p.name]
    assert (out / gone).is_file()
    for name, (classes, fused) in read_folder(out).items():
        assert np.array_equal(classes, maps[name][0])
        assert np.array_equal(fused, maps[name][1])
    # other settings in the same folder: refused, nothing mixed
    with pytest.raises(InputError, match='flip: True now False'):
        infer(trained, out, flip=False)


def test_checkpoint_replaced_at_its_path_is_refused(trained, reference,
                                                    tmp_path):
    """A killed run, then other weights under the same file name: the
    rerun must not add their maps to the folder."""
    checkpoint = tmp_path / 'model.pth'
    shutil.copy(trained['checkpoint'], checkpoint)
    out = tmp_path / 'maps'
    infer(trained, out, checkpoint=str(checkpoint))
    next(out.glob('*.npz')).unlink()  # killed before its last map
    state = torch.load(str(checkpoint))
    for value in state['state_dict'].values():
        value.add_(1)
    torch.save(state, str(checkpoint))
    with pytest.raises(InputError, match=r'other settings or inputs '
                       r"\(checkpoint_sha256: '[0-9a-f]{64}' now "
                       r"'[0-9a-f]{64}'\)"):
        infer(trained, out, checkpoint=str(checkpoint))
    assert len(list(out.glob('*.npz'))) == 3


def test_rerun_deletes_the_temporary_files_of_a_killed_run(
        trained, reference, tmp_path):
    """SIGKILL gives ``atomic_path`` no chance to delete its file."""
    _, maps = reference
    out = tmp_path / 'maps'
    infer(trained, out)
    first = sorted(maps)[0]
    (out / f'{first}.npz').rename(out / f'.{first}.tmp4242.npz')
    (out / 'notes.tmp1.txt').write_text('not ours')
    assert infer(trained, out)['written'] == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f'{name}.npz' for name in maps] + ['meta.json', 'notes.tmp1.txt'])


def test_ctrl_c_leaves_no_partial_file(trained, reference, tmp_path,
                                       monkeypatch):
    _, maps = reference
    out = tmp_path / 'maps'
    savez = np.savez_compressed
    saved = []

    def interrupted_savez(file, **arrays):
        savez(file, **arrays)  # the temporary file is complete ...
        saved.append(file)
        if len(saved) == 3:  # ... when Ctrl-C hits during the 3rd image
            raise KeyboardInterrupt

    monkeypatch.setattr(np, 'savez_compressed', interrupted_savez)
    with pytest.raises(KeyboardInterrupt):
        infer(trained, out)
    monkeypatch.undo()
    assert '.tmp' in saved[2]
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 3 and left[-1] == 'meta.json'
    assert all(name.endswith('.npz') for name in left[:2])
    stats = infer(trained, out)
    assert stats == dict(total=4, skipped=2, written=2)
    resumed = read_folder(out)
    assert sorted(resumed) == sorted(maps)
    for name, (classes, fused) in resumed.items():
        assert np.array_equal(classes, maps[name][0])
        assert np.array_equal(fused, maps[name][1])
    assert not [p for p in out.iterdir() if p.name.startswith('.')]


def as_rank(monkeypatch, rank, world_size):
    """This process as rank ``rank`` of ``world_size`` for mmengine's
    ``DefaultSampler`` and the map folder (ranks share only the folder)."""
    for module in (sampler, map_inference):
        monkeypatch.setattr(module, 'get_dist_info',
                            lambda: (rank, world_size))


def test_ranks_share_the_split(trained, reference, tmp_path, monkeypatch,
                               tiny_voc):
    _, maps = reference
    names = split_names(tiny_voc)
    out = tmp_path / 'maps'
    as_rank(monkeypatch, 1, 2)
    assert infer(trained, tmp_path / 'alone')['written'] == 2
    assert sorted(read_folder(tmp_path / 'alone')) == names[1::2]
    assert not (tmp_path / 'alone/meta.json').exists()  # rank 0 writes it
    # rank 0 writes meta.json before the ranks' barrier, then both the maps
    as_rank(monkeypatch, 0, 2)
    assert infer(trained, out)['written'] == 2
    assert (out / 'meta.json').is_file()
    as_rank(monkeypatch, 1, 2)
    assert infer(trained, out)['written'] == 2
    sharded = read_folder(out)
    assert sorted(sharded) == sorted(names)
    for name, (classes, fused) in sharded.items():
        assert np.array_equal(classes, maps[name][0])
        assert np.array_equal(fused, maps[name][1])


def test_workers_give_the_same_maps(trained, reference, tmp_path):
    # on the CPU the workers compute the maps, each with one thread, as
    # this process does without workers
    _, maps = reference
    model = init_model(trained['config'], trained['checkpoint'], 'cpu')
    out = tmp_path / 'maps'
    infer_maps(model, 'train_aug', str(out), SCALES, True, num_workers=2)
    workers = read_folder(out)
    assert sorted(workers) == sorted(maps)
    for name, (classes, fused) in workers.items():
        assert np.array_equal(fused, maps[name][1])


def test_checkpoint_of_another_model_is_one_clear_line(trained, tmp_path):
    state = torch.load(trained['checkpoint'])['state_dict']
    head = next(k for k in state if k.startswith('localizer.head.'))
    state.pop(head)
    state['localizer.extra.weight'] = torch.zeros(1)
    checkpoint = str(tmp_path / 'other.pth')
    torch.save({'state_dict': state}, checkpoint)
    out = tmp_path / 'maps'
    with pytest.raises(InputError) as error:
        infer(trained, out, checkpoint=checkpoint)
    message = str(error.value)
    assert '\n' not in message
    assert checkpoint in message and trained['config'] in message
    assert head in message and 'localizer.extra.weight' in message
    assert not out.exists()
    with pytest.raises(InputError, match='cannot read checkpoint .*none'):
        infer(trained, out, checkpoint=str(tmp_path / 'none.pth'))


def test_settings_are_checked_before_the_folder(trained, tmp_path):
    model = init_model(trained['config'], trained['checkpoint'], 'cpu')
    out = tmp_path / 'maps'
    with pytest.raises(ConfigError, match=r'scales .*got \[1.0, 0\]'):
        infer_maps(model, 'train_aug', str(out), [1.0, 0], True)
    with pytest.raises(ConfigError, match='num_workers .*got -1'):
        infer_maps(model, 'train_aug', str(out), SCALES, True, -1)
    assert not out.exists()


def test_unreadable_image_is_one_clear_line(trained, tmp_path):
    root = make_tiny_voc(tmp_path / 'voc', num_images=3)
    broken = root / 'JPEGImages' / f'{split_names(root)[1]}.jpg'
    jpeg = broken.read_bytes()
    broken.write_bytes(b'not a jpeg')
    out = tmp_path / 'maps'
    options = {'train_dataloader.dataset.data_root': root}
    # no image header: refused with the sizes, before any map
    with pytest.raises(InputError) as error:
        infer(trained, out, **options)
    message = str(error.value)
    assert message.startswith(f'cannot read image {broken}: ')
    assert '\n' not in message
    assert not out.exists()
    # a header but half the pixels: named when the image is decoded
    broken.write_bytes(jpeg[:len(jpeg) // 2])
    with pytest.raises(InputError) as error:
        infer(trained, out, **options)
    message = str(error.value)
    assert f'cannot read image {broken}' in message
    assert '\n' not in message
    assert sorted(p.name for p in out.iterdir()) == [
        f'{split_names(root)[0]}.npz', 'meta.json'
    ]


def test_an_image_above_max_pixels_is_refused_before_any_map(
        trained, tmp_path):
    root = make_tiny_voc(tmp_path / 'voc', num_images=3)  # 48 x 64 images
    big = root / 'JPEGImages' / f'{split_names(root)[1]}.jpg'
    cv2.imwrite(str(big), np.full((50, 70, 3), 110, np.uint8))
    model = init_model(trained['config'], trained['checkpoint'], 'cpu',
                       {'train_dataloader.dataset.data_root': root})
    out = tmp_path / 'maps'
    with pytest.raises(InputError) as error:
        infer_maps(model, 'train_aug', str(out), SCALES, True,
                   max_pixels=50 * 70 - 1)
    need = 50 * 70 * R38_BYTES_PER_PIXEL / 1e6
    assert str(error.value) == (
        f'image {big} is 50 x 70 = 3,500 pixels, above max_pixels 3,499 '
        f'(ResNet-38 map inference at scale 2 of it needs about {need:.0f} '
        'MB); resize it or raise max_pixels')
    assert not out.exists()  # no folder, no map
    # at the bound: served, the larger image too
    stats = infer_maps(model, 'train_aug', str(out), SCALES, True,
                       max_pixels=50 * 70)
    assert stats == dict(total=2, skipped=0, written=2)
    assert load_maps(str(out / f'{big.stem}.npz'))[1].shape[1:] == (50, 70)
