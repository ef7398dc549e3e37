"""Your own data: the demo recipe on the procedural toy_objects set (3
classes of its own, labels 1-3, another image size), through
``run_pipeline`` with only the data set config changed
(configs/demo/adv_erase_toy-objects.py), at tiny sizes. Every stage reads
the data set's classes: the localizer's and DeepLabV3+'s class counts, the
maps, the pseudo-labels and their palette, AffinityNet's labels and the
random walk."""
import json
import os.path as osp
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY, miou_by_hand
from mmengine.config import Config
from PIL import Image

from mmadv.apis import ConfigError, run_pipeline
from mmadv.datasets import load_maps, map_path, read_label_png, read_meta
from mmadv.datasets.demo_shapes import TOY_OBJECTS, generate_demo_voc

REPO = Path(__file__).parents[2]
CONFIG = 'adv_erase_toy-objects'
CLASSES = ['background', 'kite', 'boat', 'lamp']
PALETTE = [[0, 0, 0], [255, 140, 0], [0, 175, 175], [150, 60, 230]]
SIZE = 40  # neither the demo's 64 nor 96: no size setting to change


@pytest.fixture(scope='module')
def toy_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp('own_data')
    data_root = generate_demo_voc(
        str(folder / 'toy_objects'), seed=0, num_train=12, num_val=6,
        size=SIZE, shapes='toy_objects', show_progress=False)
    rows = run_pipeline([str(REPO / 'configs/demo' / f'{CONFIG}.py')],
                        work_dir=str(folder / 'work'), data_root=data_root,
                        seed=0, **TINY)
    return dict(rows=rows, data_root=data_root)


def test_the_recipe_differs_from_the_demo_only_in_its_data_set():
    def bases(name):
        return Config._get_base_files(str(REPO / 'configs/demo' / name))

    assert bases(f'{CONFIG}.py') == [
        './_base_/adv_erase_recipe.py', './_base_/toy_objects.py'
    ]
    assert bases('adv_erase_demo.py') == [
        './_base_/adv_erase_recipe.py', './_base_/demo_shapes.py'
    ]
    assert TOY_OBJECTS.classes == tuple(CLASSES[1:])


def test_every_stage_uses_the_data_sets_classes(toy_run):
    rows, data_root = toy_run['rows'], toy_run['data_root']
    assert list(rows) == [CONFIG, f'{CONFIG} + random walk',
                          f'{CONFIG} + IRN']
    gt_dir = osp.join(data_root, 'SegmentationClass')
    for name, row in rows.items():
        # stage 1 scores 3 classes; DeepLabV3+ predicts 4 labels
        state = torch.load(row.stage1_checkpoint, map_location='cpu',
                           weights_only=False)['state_dict']
        assert state['localizer.head.classifier.weight'].shape[0] == 3
        assert state['adversary.head.classifier.weight'].shape[0] == 3
        seg = torch.load(row.seg_checkpoint, map_location='cpu',
                         weights_only=False)['state_dict']
        assert seg['decode_head.conv_seg.weight'].shape[0] == 4
        for split, folder in row.map_dirs.items():
            meta = read_meta(folder, split)
            assert (meta['classes'], meta['palette']) == (CLASSES, PALETTE)
            with open(osp.join(data_root,
                               f'ImageSets/Segmentation/{split}.txt')) as f:
                names = f.read().split()
            for image in names:
                classes, maps = load_maps(map_path(folder, image))
                gt = read_label_png(osp.join(gt_dir, image + '.png'))
                assert maps.shape[1:] == gt.shape == (SIZE, SIZE)
                # the XML's classes, in the data set's own indices
                assert sorted(classes + 1) == sorted(set(gt.ravel()) - {0})
        # the val maps' score, by hand, at the row's threshold
        folder = row.map_dirs['val']

        with open(osp.join(data_root, 'ImageSets/Segmentation/val.txt')) as f:
            val_names = f.read().split()

        def labelled():
            for image in val_names:
                classes, maps = load_maps(map_path(folder, image))
                pred = np.where(maps.max(0) < row.bg_threshold, 0,
                                classes[maps.argmax(0)] + 1)
                yield pred, read_label_png(osp.join(gt_dir, image + '.png'))

        assert row.map_miou['val'] == pytest.approx(
            miou_by_hand(labelled()), abs=1e-9)
        # pseudo-labels: the 4 labels and 255, in the data set's colours
        labels = sorted(Path(row.pseudo_labels).glob('*.png'))
        assert len(labels) == 12
        for path in labels:
            values = set(np.unique(read_label_png(str(path))).tolist())
            assert values <= {0, 1, 2, 3, 255}
        with Image.open(labels[0]) as png:
            palette = np.array(png.getpalette()).reshape(-1, 3)
        np.testing.assert_array_equal(palette[:4], PALETTE)
        # the segmentation config was given the data set's classes
        tag = {'': '', ' + random walk': '_rw', ' + IRN': '_irn'}[
            name[len(CONFIG):]]
        seg_cfg = Config.fromfile(osp.join(row.work_dir, 'configs',
                                           f'seg{tag}.py'))
        for loader in ('train_dataloader', 'val_dataloader'):
            assert list(seg_cfg[loader].dataset.metainfo.classes) == CLASSES
    walked = rows[f'{CONFIG} + random walk']
    # both refinements' labels and configs take the data set's classes
    for labels, config in (('affinity_labels', 'affinity.py'),
                           ('relation_labels', 'irn.py')):
        folder = Path(walked.work_dir, f'{labels}_train_aug')
        pngs = sorted(folder.glob('*.png'))
        assert len(pngs) == 12
        for path in pngs:
            values = set(np.unique(read_label_png(str(path))).tolist())
            assert values <= {0, 1, 2, 3, 255}
        with open(osp.join(walked.work_dir, 'configs', config)) as f:
            assert "'lamp'" in f.read()
    with open(osp.join(osp.dirname(walked.work_dir), 'metrics.json')) as f:
        assert set(json.load(f)) == set(rows)


def test_a_subset_of_vocs_classes_is_refused(tmp_path):
    """The demo's masks hold VOC's labels: a config naming 3 of VOC's
    classes would have every stage read them as the subset's."""
    data_root = generate_demo_voc(str(tmp_path / 'data'), num_train=2,
                                  num_val=1, show_progress=False)
    subset = dict(classes=('background', 'bird', 'cat'))
    with pytest.raises(ConfigError, match='names a subset of '
                       "VOCImageLabelDataset's classes"):
        run_pipeline([str(REPO / 'configs/demo/adv_erase_demo.py')],
                     work_dir=str(tmp_path / 'work'), data_root=data_root,
                     cfg_options={'train_dataloader.dataset.metainfo':
                                  subset})
    assert not (tmp_path / 'work').exists() or not any(
        (tmp_path / 'work').rglob('*.pth'))
