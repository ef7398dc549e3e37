"""Map evaluation (:func:`mmadv.apis.evaluate_maps`): exact scores on
hand-made maps, the result's JSON, and its errors."""
import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import (MissingInputError, MMAdvError, PipelineSettings,
                        evaluate_maps)
from mmadv.datasets import map_path, save_maps, write_meta


def read_names(voc, split):
    return (voc / 'ImageSets/Segmentation' / f'{split}.txt').read_text() \
        .split()


def write_ring_maps(voc, map_dir, split='val', ann_file=True):
    """Maps of 0.5 on each object's rectangle (interior and 255 border)
    and 0.25 on a 2-pixel ring around it (both exact in float16):
    background thresholds in (0.25, 0.5] give the ground truth exactly."""
    names = read_names(voc, split)
    kernel = np.ones((3, 3), np.uint8)
    for name in names:
        gt = np.array(Image.open(voc / 'SegmentationClassAug' / f'{name}.png'))
        classes = np.array(sorted(set(np.unique(gt)) - {0, 255})) - 1
        maps = []
        for c in classes:
            inner = cv2.dilate((gt == c + 1).astype(np.uint8), kernel)
            outer = cv2.dilate(inner, kernel, iterations=2)
            maps.append(0.25 * outer + 0.25 * inner)
        save_maps(map_path(str(map_dir), name), classes, np.stack(maps))
    ann = voc / 'ImageSets/Segmentation' / f'{split}.txt'
    write_meta(
        str(map_dir),
        split=split,
        ann_file=str(ann) if ann_file else None,
        num_images=len(names))
    return names


def test_scores_end_to_end(tiny_voc, tmp_path):
    map_dir = tmp_path / 'maps'
    write_ring_maps(tiny_voc, map_dir)
    out = tmp_path / 'scores.json'
    gt_dir = tiny_voc / 'SegmentationClassAug'
    result = evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.2, 0.4, 0.6])
    result.dump(str(out))
    res = result.scores
    np.testing.assert_allclose(res['thresholds'], [0.2, 0.4, 0.6])
    assert result.num_images == 2
    assert result.best_threshold == pytest.approx(0.4)
    assert result.best_miou == 1.
    present = ~np.isnan(res['IoU'][1])
    assert present.sum() == 4  # background and the 3 classes of val
    np.testing.assert_array_equal(res['IoU'][1][present], 1.)
    # 0.2: the rings are foreground; 0.6: nothing is
    assert (res['Precision'][0][present][1:] < 1).all()
    assert (res['Recall'][0][present][1:] == 1).all()
    assert res['Recall'][0][0] < 1 and res['Precision'][0][0] == 1
    np.testing.assert_array_equal(res['Recall'][2][present][1:], 0.)
    assert res['mIoU'][0] < 1 and res['mIoU'][2] < res['mIoU'][0]
    saved = json.loads(out.read_text())
    assert saved['best']['threshold'] == pytest.approx(0.4)
    assert saved['best']['mIoU'] == 1.
    assert saved['mIoU'] == pytest.approx(res['mIoU'].tolist())
    assert saved['image_list'].endswith('val.txt')
    # what made the maps, as their folder records it
    assert saved['map_meta'] == json.loads(
        (map_dir / 'meta.json').read_text())
    second = saved['per_threshold'][1]
    assert second['threshold'] == pytest.approx(0.4)
    assert list(second['IoU']) == list(result.classes)
    assert list(second['IoU'].values()) == [
        None if np.isnan(v) else v for v in res['IoU'][1]
    ]
    assert sorted(p.name
                  for p in tmp_path.iterdir()) == ['maps', 'scores.json']


def test_default_thresholds_and_folder_listing(tiny_voc, tmp_path):
    map_dir = tmp_path / 'maps'
    write_ring_maps(tiny_voc, map_dir, ann_file=False)
    result = evaluate_maps(
        str(map_dir), str(tiny_voc / 'SegmentationClassAug'), 'val',
        PipelineSettings.default('thresholds'))
    res = result.scores
    np.testing.assert_allclose(res['thresholds'], np.arange(0.05, 0.601, 0.05))
    assert result.image_list == str(map_dir)
    assert result.num_images == 2
    # 0.30 .. 0.50 are exact; at 0.25 the rings are foreground
    np.testing.assert_array_equal(res['mIoU'][5:10], 1.)
    assert (res['mIoU'][np.r_[:5, 10:12]] < 1).all()
    assert result.best_threshold == pytest.approx(0.3)


def test_errors_are_one_line(tiny_voc, tmp_path):
    map_dir = tmp_path / 'maps'
    names = write_ring_maps(tiny_voc, map_dir)
    gt_dir = tmp_path / 'gt'
    with pytest.raises(MissingInputError, match=f'{gt_dir} not found'):
        evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.3])
    with pytest.raises(MMAdvError, match="split 'val', not 'train_aug'"):
        evaluate_maps(str(map_dir), str(tiny_voc), 'train_aug', [0.3])
    with pytest.raises(MMAdvError, match=f'{tmp_path / "none"} not found'):
        evaluate_maps(str(tmp_path / 'none'), str(tiny_voc), 'val', [0.3])
    shutil.copytree(tiny_voc / 'SegmentationClassAug', gt_dir)
    missing = gt_dir / f'{names[1]}.png'
    missing.unlink()
    with pytest.raises(MMAdvError, match=f'ground truth {missing} not'):
        evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.3])
    cv2.imwrite(str(missing), np.zeros((40, 64), np.uint8))
    with pytest.raises(MMAdvError) as error:
        evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.3])
    message = str(error.value)
    assert '(48, 64)' in message and '(40, 64)' in message
    assert f'{names[1]}.npz' in message and str(missing) in message
    assert '\n' not in message
    # a mask value that is no class names both files
    cv2.imwrite(str(missing), np.full((48, 64), 30, np.uint8))
    with pytest.raises(MMAdvError) as error:
        evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.3])
    assert f'{names[1]}.png' in str(error.value)
    assert 'outside 0..20' in str(error.value)
    # NaN maps used to count as foreground: refused, naming the file
    cv2.imwrite(str(missing), np.zeros((48, 64), np.uint8))
    path = map_dir / f'{names[0]}.npz'
    with np.load(path) as data:
        classes, maps = data['classes'], data['maps']
    maps[0, 10] = np.nan
    np.savez_compressed(path, classes=classes, maps=maps)
    with pytest.raises(MMAdvError, match=f'^{path}: 64 map values are NaN'):
        evaluate_maps(str(map_dir), str(gt_dir), 'val', [0.3])
