"""The background-threshold rules (:mod:`mmadv.apis.threshold_rules`) on
hand-made maps of the tiny VOC tree."""
import shutil

import numpy as np
import pytest
from test_map_evaluation import write_ring_maps

import mmadv  # noqa: F401
from mmadv.apis import ConfigError, PipelineSettings, evaluate_maps
from mmadv.datasets import load_maps, map_path
from mmadv.evaluation.threshold_rules import (build_threshold_rule,
                                              compare_threshold_rules,
                                              otsu_threshold)


def test_otsu_threshold_by_hand():
    # 4 bins, centres 1/8, 3/8, 5/8, 7/8, counts 2, 1, 0, 1: the edges
    # 1/4, 1/2, 3/4 give n0 n1 (mu0 - mu1)^2 = 2*2*0.5^2 = 1, then
    # 3*1*(7/8 - 5/24)^2 = 4/3 twice (bin 3 is empty): the first, 1/2
    assert otsu_threshold(np.array([2, 1, 0, 1])) == 0.5
    assert otsu_threshold(np.array([0, 5, 0, 0])) == 0.5  # one bin
    # two far modes of different sizes: any edge between them splits them
    # alike, the first (just above the lower mode) is taken
    histogram = np.zeros(256, np.int64)
    histogram[[20, 200]] = [300, 100]
    assert otsu_threshold(histogram) == 21 / 256


@pytest.fixture
def maps(tiny_voc, tmp_path):
    """Ring maps of the 4 train_aug images: 0.5 on the objects, 0.25 on a
    ring around them, so thresholds in (0.25, 0.5] are exact."""
    map_dir = tmp_path / 'maps'
    names = write_ring_maps(tiny_voc, map_dir, 'train_aug')
    return str(map_dir), names


SWEEP = (0.2, 0.4, 0.6)


def test_mask_sweep_is_the_best_of_every_mask(tiny_voc, maps):
    map_dir, names = maps
    rule = build_threshold_rule(dict(type='MaskSweepThreshold'))
    gt_dir = str(tiny_voc / 'SegmentationClassAug')
    choice = rule.choose(map_dir, 'train_aug', gt_dir, SWEEP)
    assert choice.threshold == pytest.approx(0.4)
    assert (choice.rule, choice.num_masks) == ('train masks', len(names))
    expected = evaluate_maps(map_dir, gt_dir, 'train_aug', SWEEP)
    assert choice.details['mIoU'] == pytest.approx(
        list(expected.scores['mIoU']))
    assert rule.mask_names(names) == names
    with pytest.raises(ConfigError, match='set train_gt_dir'):
        rule.choose(map_dir, 'train_aug', None, SWEEP)


def test_subset_reads_only_its_masks(tiny_voc, maps, tmp_path):
    map_dir, names = maps
    rule = build_threshold_rule(
        dict(type='SubsetSweepThreshold', num_images=2, seed=3))
    subset = rule.mask_names(names)
    # numpy's generator, seed 3, 2 of the 4 sorted names
    picked = np.random.default_rng(3).choice(4, 2, replace=False)
    assert subset == [sorted(names)[i] for i in sorted(picked)]
    assert rule.mask_names(list(reversed(names))) == subset
    # a mask folder with only the subset's masks is enough
    gt_dir = tmp_path / 'two_masks'
    gt_dir.mkdir()
    for name in subset:
        shutil.copy(tiny_voc / 'SegmentationClassAug' / f'{name}.png',
                    gt_dir)
    choice = rule.choose(map_dir, 'train_aug', str(gt_dir), SWEEP)
    assert choice.threshold == pytest.approx(0.4)
    assert (choice.rule, choice.num_masks) == ('2 masks', 2)
    assert choice.details['images'] == subset
    with pytest.raises(ConfigError, match='num_images 5 is more'):
        build_threshold_rule(dict(type='SubsetSweepThreshold',
                                  num_images=5)).mask_names(names)


def test_fixed_and_otsu_read_no_mask(maps):
    map_dir, names = maps
    fixed = build_threshold_rule(dict(type='FixedThreshold', threshold=0.3))
    choice = fixed.choose(map_dir, 'train_aug', None, SWEEP)
    assert choice.threshold == 0.3
    assert (choice.rule, choice.num_masks) == ('fixed', 0)
    assert fixed.mask_names(names) == []
    otsu = build_threshold_rule(dict(type='OtsuThreshold', bins=4))
    choice = otsu.choose(map_dir, 'train_aug', None, SWEEP)
    # the highest maps take 0, 0.25 (ring) and 0.5 (objects): bins 0, 1
    # and 2 of 4; Otsu puts the edge above the large background bin
    counts = np.zeros(4, np.int64)
    for name in names:
        _, image_maps = load_maps(map_path(map_dir, name))
        values = np.minimum((image_maps.max(0) * 4).astype(int), 3)
        counts += np.bincount(values.ravel(), minlength=4)
    assert counts[3] == 0 and counts[:3].min() > 0
    assert choice.threshold == otsu_threshold(counts)
    assert (choice.rule, choice.num_masks) == ('Otsu', 0)
    assert choice.details['pixels'] == counts.sum()


def test_bad_rules_are_config_errors():
    with pytest.raises(ConfigError, match='threshold_rule'):
        build_threshold_rule(dict(type='MedianThreshold'))
    with pytest.raises(ConfigError, match='in \\[0, 1\\]'):
        build_threshold_rule(dict(type='FixedThreshold', threshold=2))
    with pytest.raises(ConfigError, match='threshold_rule'):
        PipelineSettings.from_sources(
            ('cfg', dict(threshold_rule=dict(type='Nope'))))
    settings = PipelineSettings.from_sources(
        ('cfg', dict(threshold_rule=dict(type='OtsuThreshold'),
                     train_gt_dir=None)))
    assert settings.train_gt_dir is None
    assert settings.to_dict()['threshold_rule'] == dict(type='OtsuThreshold')


def test_rule_options_one_key_at_a_time():
    """``--pipeline-options threshold_rule.type=... threshold_rule.x=...``:
    a new type starts from its own defaults, an option alone updates."""
    settings = PipelineSettings.from_sources(
        ('cfg', dict(threshold_rule=dict(type='SubsetSweepThreshold',
                                         num_images=20))),
        ('--pipeline-options', {'threshold_rule.type': 'FixedThreshold',
                                'threshold_rule.threshold': 0.3}))
    assert settings.threshold_rule == dict(type='FixedThreshold',
                                           threshold=0.3)
    settings = PipelineSettings.from_sources(
        ('cfg', dict(threshold_rule=dict(type='SubsetSweepThreshold',
                                         num_images=20))),
        ('--pipeline-options', {'threshold_rule.num_images': 5}))
    assert settings.threshold_rule == dict(type='SubsetSweepThreshold',
                                           num_images=5)


def test_compare_with_only_the_subsets_masks(tiny_voc, maps, tmp_path):
    """compare_threshold_rules with a mask folder of just the subset: the
    rule chooses, the training split is not scored (not every mask is
    there), val is scored at the choice."""
    map_dir, names = maps
    val_maps = tmp_path / 'val_maps'
    write_ring_maps(tiny_voc, val_maps, 'val')
    subset = dict(type='SubsetSweepThreshold', num_images=2)
    gt_dir = tmp_path / 'two_masks'
    gt_dir.mkdir()
    for name in build_threshold_rule(subset).mask_names(names):
        shutil.copy(tiny_voc / 'SegmentationClassAug' / f'{name}.png',
                    gt_dir)
    all_masks = str(tiny_voc / 'SegmentationClassAug')
    rows = compare_threshold_rules(
        [subset, dict(type='FixedThreshold', threshold=0.2)], map_dir,
        str(val_maps), str(gt_dir), all_masks, SWEEP)
    assert [r['map_miou_train_aug'] for r in rows] == [None, None]
    assert rows[0]['threshold'] == pytest.approx(0.4)
    # ring maps at (0.25, 0.5] are the ground truth; at 0.2 the ring is
    # foreground too
    assert rows[0]['map_miou_val'] == 1.
    assert rows[1]['map_miou_val'] == pytest.approx(evaluate_maps(
        str(val_maps), all_masks, 'val', [0.2]).best_miou)
    assert rows[1]['map_miou_val'] < 1.
    # with every mask the training split is scored
    rows = compare_threshold_rules([subset], map_dir, str(val_maps),
                                   all_masks, all_masks, SWEEP)
    assert rows[0]['map_miou_train_aug'] == 1.
