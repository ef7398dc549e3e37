"""MS COCO 2014 on a tiny generated release: the conversion (masks from
the instance annotations, image labels, lists), the data set classes and
configs, and maps -> pseudo-labels with COCO's 81 labels."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import miou_by_hand
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import (InputError, OutputExistsError, fit_to_dataset,
                        infer_maps, init_model, write_pseudo_labels)
from mmadv.datasets.coco import COCO_CLASSES, COCO_METAINFO, convert_coco2014
from mmadv.pseudo_labels import load_maps, map_path, read_label_png, read_meta

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# COCO 2014's category ids (1-90 with gaps), in the order of COCO_CLASSES
CAT_IDS = [*range(1, 12), *range(13, 26), 27, 28, *range(31, 45),
           *range(46, 66), 67, 70, *range(72, 83), *range(84, 91)]
SIZE = (40, 48)  # (H, W)


def rect(x1, y1, x2, y2):
    return [[x1, y1, x2, y1, x2, y2, x1, y2]]


# image -> its annotations (category id, polygon or crowd box, area)
IMAGES = {
    ('train', 1): [(1, rect(2, 2, 30, 30)),  # a person ...
                   (90, rect(10, 10, 16, 16))],  # ... holding a toothbrush
    ('train', 2): [(18, rect(30, 5, 46, 38))],  # a dog
    ('train', 3): [],  # no annotation: left out
    ('val', 4): [(3, rect(4, 20, 40, 36)),  # a car
                 (1, 'crowd')],  # a crowd of people, painted too
}


def make_tiny_coco(root):
    """train2014/, val2014/ and annotations/ of ``IMAGES``."""
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        (root / f'{split}2014').mkdir(parents=True)
        images, anns = [], []
        for (s, image_id), objects in IMAGES.items():
            if s != split:
                continue
            file_name = f'COCO_{split}2014_{image_id:012d}.jpg'
            cv2.imwrite(str(root / f'{split}2014' / file_name),
                        rng.integers(0, 255, (*SIZE, 3), np.uint8))
            images.append(dict(id=image_id, file_name=file_name,
                               height=SIZE[0], width=SIZE[1]))
            for cat, shape in objects:
                ann = dict(id=len(anns) + 100 * image_id, image_id=image_id,
                           category_id=cat)
                if shape == 'crowd':  # the top-left corner, as RLE
                    crowd = np.zeros(SIZE, np.uint8, order='F')
                    crowd[:6, :8] = 1
                    rle = mask_utils.encode(crowd)
                    rle['counts'] = rle['counts'].decode()
                    ann.update(segmentation=rle, iscrowd=1, area=48.,
                               bbox=[0, 0, 8, 6])
                else:
                    x1, y1, x2, y2 = shape[0][0], shape[0][1], \
                        shape[0][4], shape[0][5]
                    ann.update(segmentation=shape, iscrowd=0,
                               area=float((x2 - x1) * (y2 - y1)),
                               bbox=[x1, y1, x2 - x1, y2 - y1])
                anns.append(ann)
        categories = [dict(id=i, name=n, supercategory='')
                      for i, n in zip(CAT_IDS, COCO_CLASSES)]
        (root / 'annotations').mkdir(exist_ok=True)
        (root / 'annotations' / f'instances_{split}2014.json').write_text(
            json.dumps(dict(images=images, annotations=anns,
                            categories=categories)))
    return root


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    release = make_tiny_coco(tmp_path_factory.mktemp('coco'))
    out = tmp_path_factory.mktemp('coco2014')
    report = convert_coco2014(str(release), str(out), show_progress=False)
    return dict(release=release, root=out, report=report)


def test_category_ids_are_cocos():
    ids = dict(zip(CAT_IDS, COCO_CLASSES))  # a few official (id, name)
    assert (ids[1], ids[13], ids[44], ids[64], ids[67], ids[70], ids[90]) \
        == ('person', 'stop sign', 'bottle', 'potted plant', 'dining table',
            'toilet', 'toothbrush')
    assert len(ids) == 80


def test_masks_labels_and_lists_from_the_instances(coco):
    root = coco['root']
    assert coco['report'] == dict(train=dict(images=2, unlabelled=1),
                                  val=dict(images=1, unlabelled=0))
    assert (root / 'ImageSets/Segmentation/train.txt').read_text().split() \
        == ['COCO_train2014_000000000001', 'COCO_train2014_000000000002']
    labels = json.loads((root / 'cls_labels.json').read_text())
    assert labels == {
        'COCO_train2014_000000000001': ['person', 'toothbrush'],
        'COCO_train2014_000000000002': ['dog'],
        'COCO_val2014_000000000004': ['person', 'car'],
    }
    # labels in category id order: id 18 (dog) is the 17th of the ids
    person, car, toothbrush = 1, 3, 80
    dog = CAT_IDS.index(18) + 1
    assert (COCO_CLASSES[dog - 1], dog) == ('dog', 17)
    second = read_label_png(str(root / 'SegmentationClass'
                                / 'COCO_train2014_000000000002.png'))
    assert set(np.unique(second).tolist()) == {0, dog}
    first = read_label_png(str(root / 'SegmentationClass'
                               / 'COCO_train2014_000000000001.png'))
    assert first.shape == SIZE
    assert set(np.unique(first).tolist()) == {0, person, toothbrush}
    # inside the toothbrush (drawn after the larger person), inside the
    # person, outside both
    assert first[13, 13] == toothbrush and first[5, 25] == person
    assert first[35, 40] == 0 and first[5, 40] == 0
    val = read_label_png(str(root / 'SegmentationClass'
                             / 'COCO_val2014_000000000004.png'))
    assert val[28, 20] == car and val[2, 3] == person  # the crowd
    assert val[10, 30] == 0
    with Image.open(root / 'SegmentationClass'
                    / 'COCO_val2014_000000000004.png') as png:
        palette = np.array(png.getpalette()).reshape(-1, 3)
    np.testing.assert_array_equal(palette[:81], COCO_METAINFO['palette'])
    # the images are linked, not copied
    link = root / 'JPEGImages' / 'COCO_val2014_000000000004.jpg'
    assert link.is_symlink() and link.resolve() == (
        coco['release'] / 'val2014' / link.name).resolve()
    # a rerun keeps every file and gives the same report
    png = root / 'SegmentationClass' / 'COCO_val2014_000000000004.png'
    stamp = png.stat().st_mtime_ns
    assert convert_coco2014(str(coco['release']), str(root),
                            show_progress=False) == coco['report']
    assert png.stat().st_mtime_ns == stamp
    # a tree of another release folder is refused
    with pytest.raises(OutputExistsError, match='was converted from'):
        convert_coco2014(str(root), str(root), show_progress=False)


def test_other_categories_are_refused(tmp_path):
    release = make_tiny_coco(tmp_path / 'release')
    path = release / 'annotations' / 'instances_train2014.json'
    data = json.loads(path.read_text())
    data['categories'][0]['name'] = 'human'
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="are not COCO 2014's 80 "
                       r'\(human, bicycle, car, \.\.\.'):
        convert_coco2014(str(release), str(tmp_path / 'out'),
                         show_progress=False)


def coco_config(root) -> Config:
    """configs/adv_erase_r38_coco.py on the tiny tree, with timm's tiny
    test_resnet networks (no ImageNet weights)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'adv_erase_r38_coco.py'))
    cfg.merge_from_dict({f'{loader}.dataset.data_root': str(root)
                         for loader in ('train_dataloader', 'val_dataloader',
                                        'test_dataloader')})
    cfg.model.localizer.backbone = dict(
        type='TimmFeatureBackbone', model_name='test_resnet', output_stride=8)
    cfg.model.adversary.backbone.model_name = 'test_resnet'
    return cfg


def test_configs_read_the_labels_and_masks_with_81_labels(coco):
    root = coco['root']
    cfg = fit_to_dataset(coco_config(root))
    assert cfg.model.localizer.head.num_classes == 80
    assert cfg.model.adversary.head.num_classes == 80
    init_default_scope('mmseg')
    train = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=[]))
    assert len(train) == 2
    labels = train.get_data_info(0)['img_labels']
    assert labels.shape == (80, )
    assert np.flatnonzero(labels).tolist() == [0, 79]  # person, toothbrush
    val = DATASETS.build(cfg.val_dataloader.dataset)
    item = val[0]
    gt = read_label_png(str(root / 'SegmentationClass'
                            / 'COCO_val2014_000000000004.png'))
    np.testing.assert_array_equal(item['data_samples'].gt_sem_seg.data[0],
                                  gt)
    assert np.flatnonzero(item['data_samples'].gt_class_labels).tolist() \
        == [0, 2]  # person, car
    # DeepLabV3+ on COCO: 81 labels, COCO's masks for testing
    seg = fit_to_dataset(Config.fromfile(
        osp.join(ROOT, 'configs', 'deeplabv3plus_r101-d8_coco14-pseudo.py')))
    assert seg.model.decode_head.num_classes == 81
    assert seg.model.auxiliary_head.num_classes == 81
    assert seg.val_dataloader.dataset.ann_file == \
        'ImageSets/Segmentation/val.txt'
    seg_val = DATASETS.build(dict(seg.val_dataloader.dataset,
                                  data_root=str(root), pipeline=[]))
    assert len(seg_val.metainfo['classes']) == 81 and len(seg_val) == 1
    # the VOC AffinityNet config, given COCO's classes as the pipeline
    # does, reads COCO's labels
    affinity = Config.fromfile(osp.join(ROOT, 'configs',
                                        'affinity_r38_voc.py'))
    affinity.merge_from_dict({
        'train_dataloader.dataset.metainfo': dict(
            classes=list(COCO_METAINFO['classes']),
            palette=COCO_METAINFO['palette']),
        'train_dataloader.dataset.data_root': str(root),
        'train_dataloader.dataset.ann_file': 'ImageSets/Segmentation/val.txt',
        'train_dataloader.dataset.data_prefix.seg_map_path':
        'SegmentationClass'})
    fit_to_dataset(affinity)
    assert affinity.train_dataloader.dataset.pipeline[2].num_classes == 81
    labels = DATASETS.build(dict(affinity.train_dataloader.dataset,
                                 pipeline=affinity.train_dataloader.dataset
                                 .pipeline[:3]))
    np.testing.assert_array_equal(labels[0]['gt_seg_map'], gt)


def test_maps_and_pseudo_labels_with_81_labels(coco, tmp_path):
    root = coco['root']
    cfg = fit_to_dataset(coco_config(root))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    checkpoint = str(tmp_path / 'model.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    config = str(tmp_path / 'coco_tiny.py')
    coco_config(root).dump(config)
    model = init_model(config, checkpoint, device='cpu')
    maps_dir = str(tmp_path / 'maps_train')
    infer_maps(model, 'train', maps_dir, scales=(1.0, ), flip=False,
               num_workers=0)
    meta = read_meta(maps_dir, 'train')
    assert meta['classes'] == ['background', *COCO_CLASSES]
    classes, maps = load_maps(map_path(maps_dir,
                                       'COCO_train2014_000000000001'))
    assert classes.tolist() == [0, 79] and maps.shape == (2, *SIZE)
    out = tmp_path / 'pseudo'
    summary = write_pseudo_labels(
        maps_dir, str(root / 'JPEGImages'), str(out), 'train',
        dict(type='ThresholdLabeler', bg_threshold=0.0), workers=1,
        gt_dir=str(root / 'SegmentationClass'))
    assert summary['written'] == 2 and summary['scored'] == 2
    # threshold 0: every pixel is the best of the image's classes, by hand
    pairs = []
    for name in ('COCO_train2014_000000000001',
                 'COCO_train2014_000000000002'):
        classes, maps = load_maps(map_path(maps_dir, name))
        label = read_label_png(str(out / f'{name}.png'))
        np.testing.assert_array_equal(label, classes[maps.argmax(0)] + 1)
        pairs.append((label, read_label_png(
            str(root / 'SegmentationClass' / f'{name}.png'))))
    assert set(np.unique(pairs[0][0]).tolist()) <= {1, 80}
    assert summary['mIoU'] == pytest.approx(miou_by_hand(pairs, 81),
                                            abs=1e-9)
    with Image.open(out / 'COCO_train2014_000000000001.png') as png:
        palette = np.array(png.getpalette()).reshape(-1, 3)
    np.testing.assert_array_equal(palette[:81], COCO_METAINFO['palette'])


def test_the_converter_tool(tmp_path):
    release = make_tiny_coco(tmp_path / 'release')
    tool = osp.join(ROOT, 'tools', 'dataset_converters', 'coco2014.py')
    done = subprocess.run(
        [sys.executable, tool, str(release), str(tmp_path / 'out'),
         '--splits', 'val'], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == \
        'val: 1 images listed, 0 without annotations left out'
    assert (tmp_path / 'out/ImageSets/Segmentation/val.txt').read_text() \
        == 'COCO_val2014_000000000004\n'
    missing = subprocess.run(
        [sys.executable, tool, str(tmp_path / 'nowhere'),
         str(tmp_path / 'out2')], capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == (
        f'coco2014: error: {tmp_path / "nowhere" / "train2014"} not found '
        f'(COCO 2014 release in {tmp_path / "nowhere"})')
