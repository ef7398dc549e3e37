"""MS COCO 2014 on a tiny generated release: the conversion (masks from
the instance annotations, image labels, lists), the data set classes and
configs, and maps -> pseudo-labels with COCO's 81 labels."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import load_tool, miou_by_hand, tool_error
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import (InputError, OutputExistsError, fit_to_dataset,
                        infer_maps, init_model, write_pseudo_labels)
from mmadv.datasets import load_maps, map_path, read_label_png, read_meta
from mmadv.datasets.coco import COCO_CLASSES, COCO_METAINFO, convert_coco2014
from mmadv.datasets.coco_instances import rle_runs

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
    assert tool_error('dataset_converters/coco2014.py', [
        tmp_path / 'nowhere', tmp_path / 'out2']) == (
        f'coco2014: error: {tmp_path / "nowhere" / "train2014"} not found '
        f'(COCO 2014 release in {tmp_path / "nowhere"})')


def edit_instances(release, split, edit):
    """Apply ``edit`` to the JSON of ``split``'s instances file; its
    path."""
    path = release / 'annotations' / f'instances_{split}2014.json'
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


def setting(key, index, **fields):
    """An edit that updates record ``index`` of ``key``."""
    return lambda data: data[key][index].update(fields)


def dropping(key, index=None, field=None):
    """An edit that deletes the top-level ``key``, or ``field`` of its
    record ``index``."""
    def edit(data):
        if index is None:
            del data[key]
        else:
            del data[key][index][field]
    return edit


def snapshot(root):
    """Every path under ``root``: a link's target, a file's bytes and
    modification time, or 'dir'."""
    state = {}
    for path in root.rglob('*'):
        if path.is_symlink():
            state[path] = os.readlink(path)
        elif path.is_file():
            state[path] = (path.read_bytes(), path.stat().st_mtime_ns)
        else:
            state[path] = 'dir'
    return state


def test_file_names_that_leave_the_image_folder_are_refused(tmp_path):
    # two folders down, so that ../../ leads from the release's image
    # folder to deep/ and from out/JPEGImages to tmp_path
    release = make_tiny_coco(tmp_path / 'deep' / 'release')
    (tmp_path / 'deep' / 'escape.jpg').write_bytes(
        (release / 'train2014' / 'COCO_train2014_000000000001.jpg')
        .read_bytes())
    out = tmp_path / 'out'
    for file_name in ('../../escape.jpg', str(tmp_path / 'deep/escape.jpg'),
                      'train2014/escape.jpg', '..', 'escape .jpg'):
        path = edit_instances(release, 'train', setting(
            'images', 0, file_name=file_name))
        before = snapshot(tmp_path)
        with pytest.raises(InputError) as error:
            convert_coco2014(str(release), str(out), show_progress=False)
        assert str(error.value) == (
            f'{path}: image 1: file_name {file_name!r} is not a plain file '
            "name (COCO's are base names such as "
            'COCO_train2014_000000000001.jpg)')
        # no link, no mask, no folder: not outside out_root, not in it
        assert snapshot(tmp_path) == before
        assert not out.exists()


TRAIN_1 = 'COCO_train2014_000000000001'
POLYGON = 'image 1, annotation 100: segmentation polygon'
RLE = 'image 4, annotation 401: segmentation:'
# (id, split, edit, message after '<instances file>: ') of instances files
# refused before anything is written
BAD_INSTANCES = [
    # the file
    ('no-images', 'train', dropping('images'),
     'no images list at the top level'),
    ('no-annotations', 'train', dropping('annotations'),
     'no annotations list at the top level'),
    ('no-categories', 'train', dropping('categories'),
     'no categories list at the top level'),
    ('images-not-a-list', 'train', lambda data: data.update(images='all'),
     "images 'all' is not a list"),
    # ids and output names listed twice
    ('image-id-twice', 'train', setting('images', 1, id=1),
     f'image 1: id listed twice in images (file_name {TRAIN_1}.jpg and '
     'COCO_train2014_000000000002.jpg)'),
    ('file-name-twice', 'train',
     setting('images', 1, file_name=f'{TRAIN_1}.jpg'),
     f'image 2: file_name {TRAIN_1}.jpg gives the output name {TRAIN_1} of '
     'image 1 too'),
    ('output-name-twice', 'train',
     setting('images', 1, file_name=f'{TRAIN_1}.png'),
     f'image 2: file_name {TRAIN_1}.png gives the output name {TRAIN_1} of '
     'image 1 too'),
    ('output-name-in-two-splits', 'val',
     setting('images', 0, file_name=f'{TRAIN_1}.jpg'),
     f'image 4: file_name {TRAIN_1}.jpg gives the output name {TRAIN_1} of '
     'image 1 of {train} too'),
    ('annotation-id-twice', 'train', setting('annotations', 1, id=100),
     'image 1, annotation 100: id listed twice in annotations'),
    ('category-id-twice', 'train',
     lambda data: data['categories'].append(data['categories'][0]),
     'category 1: id listed twice in categories'),
    # image records
    ('size-not-the-images', 'train', setting('images', 0, height=41),
     f'image 1: height 41 x width 48 is not the size of {TRAIN_1}.jpg '
     '(40 x 48)'),
    ('absurd-size', 'train', setting('images', 0, height=100000,
                                     width=100000),
     'image 1: height 100000 x width 100000 is more than 67,108,864 pixels '
     "(COCO's images are at most 640 px on a side)"),
    ('no-height', 'train', dropping('images', 0, 'height'),
     'image 1: no height'),
    ('no-file-name', 'train', dropping('images', 0, 'file_name'),
     'image 1: no file_name'),
    ('no-image-id', 'train', dropping('images', 0, 'id'),
     'images[0]: no id'),
    ('height-a-string', 'train', setting('images', 0, height='40'),
     "image 1: height '40' is not a positive whole number"),
    ('height-zero', 'train', setting('images', 0, height=0),
     'image 1: height 0 is not a positive whole number'),
    ('width-negative', 'train', setting('images', 0, width=-48),
     'image 1: width -48 is not a positive whole number'),
    ('image-not-an-object', 'train',
     lambda data: data['images'].__setitem__(0, 7),
     'images[0] is 7, not an object'),
    # annotations
    ('no-segmentation', 'train', dropping('annotations', 0, 'segmentation'),
     'image 1, annotation 100: no segmentation'),
    ('no-category-id', 'train', dropping('annotations', 0, 'category_id'),
     'image 1, annotation 100: no category_id'),
    ('no-area', 'train', dropping('annotations', 0, 'area'),
     'image 1, annotation 100: no area'),
    ('no-image-id-of-annotation', 'train',
     dropping('annotations', 0, 'image_id'), 'annotation 100: no image_id'),
    ('unknown-image-id', 'train', setting('annotations', 0, image_id=99),
     'annotation 100: image_id 99 is no image of images'),
    ('unknown-category-id', 'train',
     setting('annotations', 0, category_id=12),
     'image 1, annotation 100: category_id 12 is not one of the 80 category '
     'ids'),
    ('area-negative', 'train', setting('annotations', 0, area=-1),
     'image 1, annotation 100: area -1 is not a number >= 0'),
    ('segmentation-a-string', 'train',
     setting('annotations', 0, segmentation='x'),
     "image 1, annotation 100: segmentation 'x' is not polygons or RLE"),
    ('segmentation-empty', 'train',
     setting('annotations', 0, segmentation=[]),
     'image 1, annotation 100: segmentation is empty (no polygon)'),
    ('polygon-empty', 'train', setting('annotations', 0, segmentation=[[]]),
     f'{POLYGON} 0 has 0 coordinates (a polygon is 3 or more x, y pairs)'),
    ('polygon-of-two-points', 'train',
     setting('annotations', 0, segmentation=[[2, 2, 30, 2]]),
     f'{POLYGON} 0 has 4 coordinates (a polygon is 3 or more x, y pairs)'),
    ('polygon-odd', 'train',
     setting('annotations', 0, segmentation=[[2, 2, 30, 2, 30, 30], [2]]),
     f'{POLYGON} 1 has 1 coordinates (a polygon is 3 or more x, y pairs)'),
    ('polygon-null', 'train',
     setting('annotations', 0, segmentation=[[2, 2, None, 2, 30, 30]]),
     f'{POLYGON} 0 holds None, not a number'),
    ('polygon-far-outside', 'train',
     setting('annotations', 0, segmentation=[[2, 2, 1e9, 2, 30, 30]]),
     f'{POLYGON} 0 has points far outside the height 40 x width 48 image '
     '(x from 2 to 1000000000.0, y from 2 to 30)'),
    # the crowd's RLE, in the val file: the train file is fine and nothing
    # of it is written either
    ('rle-size', 'val', setting('annotations', 1, segmentation=dict(
        size=[48, 40], counts=[1920])),
     f"{RLE} size [48, 40] is not the image's [height, width] [40, 48]"),
    ('rle-no-counts', 'val',
     setting('annotations', 1, segmentation=dict(size=[40, 48])),
     f'{RLE} no counts'),
    ('rle-short-list', 'val', setting('annotations', 1, segmentation=dict(
        size=[40, 48], counts=[0, 47])),
     f'{RLE} counts cover 47 pixels, not the 40 x 48 of the image'),
    ('rle-short-string', 'val', setting('annotations', 1, segmentation=dict(
        size=[40, 48], counts='2')),
     f'{RLE} counts cover 2 pixels, not the 40 x 48 of the image'),
    ('rle-negative-run', 'val', setting('annotations', 1, segmentation=dict(
        size=[40, 48], counts=[-1, 1921])),
     f"{RLE} counts [-1, 1921] is not RLE counts (whole numbers >= 0 or "
     "COCO's compressed string)"),
]


@pytest.mark.parametrize('split,edit,message',
                         [case[1:] for case in BAD_INSTANCES],
                         ids=[case[0] for case in BAD_INSTANCES])
def test_a_bad_instances_file_is_refused_before_anything_is_written(
        tmp_path, split, edit, message):
    release = make_tiny_coco(tmp_path / 'release')
    path = edit_instances(release, split, edit)
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as error:
        convert_coco2014(str(release), str(tmp_path / 'out'),
                         show_progress=False)
    train = release / 'annotations' / 'instances_train2014.json'
    assert str(error.value) == f'{path}: ' + message.format(train=train)
    assert snapshot(tmp_path) == before


def test_a_refused_rerun_leaves_the_converted_tree_as_it_was(tmp_path):
    release = make_tiny_coco(tmp_path / 'release')
    out = tmp_path / 'out'
    convert_coco2014(str(release), str(out), show_progress=False)
    (release / 'val2014' / 'COCO_val2014_000000000004.jpg').write_bytes(
        b'not a JPEG')
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as error:
        convert_coco2014(str(release), str(out), show_progress=False)
    assert str(error.value).startswith(
        f'{release / "annotations/instances_val2014.json"}: image 4: '
        'COCO_val2014_000000000004.jpg does not read as an image (cannot '
        'identify image file')
    assert snapshot(tmp_path) == before  # train's lists not rewritten


def test_links_to_another_release_are_refused(tmp_path):
    out = tmp_path / 'out'
    first = make_tiny_coco(tmp_path / 'first')
    convert_coco2014(str(first), str(out), ('val', ), show_progress=False)
    (out / 'DONE').unlink()  # as a run killed before its end leaves it
    second = make_tiny_coco(tmp_path / 'second')
    before = snapshot(tmp_path)
    with pytest.raises(OutputExistsError) as error:
        convert_coco2014(str(second), str(out), ('val', ),
                         show_progress=False)
    link = out / 'JPEGImages' / 'COCO_val2014_000000000004.jpg'
    assert str(error.value) == (
        f'{link} is not a link to {second}/val2014/{link.name} '
        f'({second}/annotations/instances_val2014.json: image 4): choose '
        'another folder or delete it')
    assert snapshot(tmp_path) == before


def test_compressed_rle_runs_are_read_as_pycocotools_does():
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    for _ in range(50):
        height, width = rng.integers(1, 60, 2)
        mask = rng.random((height, width)) < rng.random()
        rle = mask_utils.encode(np.asfortranarray(mask, np.uint8))
        runs = rle_runs(rle['counts'].decode())
        # the runs alternate 0 and 1 from 0, in column-major order
        flat = np.repeat(np.arange(len(runs)) % 2, runs)
        np.testing.assert_array_equal(flat, mask.flatten(order='F'))
    assert rle_runs('2') == [2]
    assert rle_runs('\xff') is None and rle_runs('O') is None  # not ended


ALL_LISTS = {
    split: [f'ImageSets/Segmentation/{split}.txt',
            f'ImageSets/Segmentation/{split}_all.txt']
    for split in ('train', 'val')
}


def test_keep_unlabelled_lists_every_image(tmp_path):
    release = make_tiny_coco(tmp_path / 'release')
    out = tmp_path / 'out'
    report = convert_coco2014(str(release), str(out), show_progress=False,
                              keep_unlabelled=True)
    assert report == dict(
        train=dict(images=2, unlabelled=1, lists=ALL_LISTS['train']),
        val=dict(images=1, unlabelled=0, lists=ALL_LISTS['val']))
    assert json.loads((out / 'DONE').read_text())['splits'] == report
    names = [f'COCO_train2014_00000000000{i}' for i in (1, 2, 3)]
    lists = out / 'ImageSets' / 'Segmentation'
    assert (lists / 'train.txt').read_text().split() == names[:2]
    assert (lists / 'train_all.txt').read_text().split() == names
    assert (lists / 'val_all.txt').read_text().split() == \
        ['COCO_val2014_000000000004']
    # the image without annotations: all background, no label
    unlabelled = read_label_png(
        str(out / 'SegmentationClass' / f'{names[2]}.png'))
    assert unlabelled.shape == SIZE and not unlabelled.any()
    labels = json.loads((out / 'cls_labels.json').read_text())
    assert labels[names[2]] == [] and labels[names[0]] == \
        ['person', 'toothbrush']
    # the other masks are those of a conversion without the option
    plain = tmp_path / 'plain'
    convert_coco2014(str(release), str(plain), show_progress=False)
    for name in (*names[:2], 'COCO_val2014_000000000004'):
        np.testing.assert_array_equal(
            read_label_png(str(out / 'SegmentationClass' / f'{name}.png')),
            read_label_png(str(plain / 'SegmentationClass' / f'{name}.png')))
    assert json.loads((plain / 'DONE').read_text())['splits']['train'] == \
        dict(images=2, unlabelled=1, lists=ALL_LISTS['train'][:1])
    # the masks read with every image; the image labels refuse the one
    # without a label, so stage 1 keeps train.txt
    init_default_scope('mmseg')
    prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClass')
    masks = DATASETS.build(dict(
        type='COCOLabelPNGDataset', data_root=str(out), data_prefix=prefix,
        ann_file='ImageSets/Segmentation/train_all.txt', pipeline=[]))
    assert len(masks) == 3
    image_labels = dict(type='COCOImageLabelDataset', data_root=str(out),
                        data_prefix=prefix, label_source='file',
                        labels_file='cls_labels.json', pipeline=[])
    assert len(DATASETS.build(dict(
        image_labels, ann_file='ImageSets/Segmentation/train.txt'))) == 2
    with pytest.raises(InputError, match=f'image {names[2]} has no '
                       'foreground class label'):
        DATASETS.build(dict(image_labels,
                            ann_file='ImageSets/Segmentation/train_all.txt'))


def test_keep_unlabelled_completes_a_tree_and_is_not_dropped(tmp_path):
    release = make_tiny_coco(tmp_path / 'release')
    out = tmp_path / 'out'
    convert_coco2014(str(release), str(out), show_progress=False)
    masks = out / 'SegmentationClass'
    stamp = (masks / f'{TRAIN_1}.png').stat().st_mtime_ns
    assert not (masks / 'COCO_train2014_000000000003.png').exists()
    # with the option after without: the tree is completed, masks kept
    report = convert_coco2014(str(release), str(out), show_progress=False,
                              keep_unlabelled=True)
    assert report['train'] == dict(images=2, unlabelled=1,
                                   lists=ALL_LISTS['train'])
    assert (masks / 'COCO_train2014_000000000003.png').is_file()
    assert (masks / f'{TRAIN_1}.png').stat().st_mtime_ns == stamp
    # without it after with: refused, nothing touched
    before = snapshot(tmp_path)
    with pytest.raises(OutputExistsError) as error:
        convert_coco2014(str(release), str(out), ('val', ),
                         show_progress=False)
    assert str(error.value) == (
        f'{out} was converted with keep_unlabelled (it holds '
        'ImageSets/Segmentation/val_all.txt): convert it with '
        'keep_unlabelled=True (--keep-unlabelled) again, or into another '
        'folder')
    assert snapshot(tmp_path) == before
    # one split again: DONE keeps the other's record
    convert_coco2014(str(release), str(out), ('val', ), show_progress=False,
                     keep_unlabelled=True)
    done = json.loads((out / 'DONE').read_text())
    assert done['splits'] == dict(
        train=dict(images=2, unlabelled=1, lists=ALL_LISTS['train']),
        val=dict(images=1, unlabelled=0, lists=ALL_LISTS['val']))


def test_the_converter_tool_keeps_unlabelled_and_refuses_in_one_line(
        tmp_path, capsys):
    tool = load_tool('dataset_converters/coco2014.py')
    release = make_tiny_coco(tmp_path / 'release')
    out = str(tmp_path / 'out')
    tool.main([str(release), out, '--keep-unlabelled'])
    assert capsys.readouterr().out.splitlines()[-2:] == [
        'train: 2 images listed in ImageSets/Segmentation/train.txt, all 3 '
        '(1 without annotations) in ImageSets/Segmentation/train_all.txt',
        'val: 1 images listed in ImageSets/Segmentation/val.txt, all 1 '
        '(0 without annotations) in ImageSets/Segmentation/val_all.txt'
    ]
    path = edit_instances(release, 'val', setting(
        'images', 0, height=100000, width=100000))
    assert tool_error('dataset_converters/coco2014.py',
                      [release, out, '--keep-unlabelled']) == (
        f'coco2014: error: {path}: image 4: height 100000 x width 100000 is '
        "more than 67,108,864 pixels (COCO's images are at most 640 px on a "
        'side)')
