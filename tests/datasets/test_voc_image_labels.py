"""VOCImageLabelDataset: labels from each source, errors, pipelines and the
base dataset config."""
import json
import pathlib
import shutil

import cv2
import numpy as np
import pytest
import torch
from conftest import VOC_CLASSES, make_tiny_voc, voc_xml
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmadv  # noqa: F401  (compat shim before mmseg.datasets)
import mmadv.datasets.transforms.pack_weak_seg_inputs  # noqa: F401
from mmadv.datasets.voc_image_labels import VOCImageLabelDataset
from mmadv.utils.errors import MMAdvError

REPO = pathlib.Path(__file__).resolve().parents[2]
BASE_CFG = REPO / 'configs/_base_/datasets/voc12_image_labels.py'
TRAINVAL = 'ImageSets/Segmentation/trainval.txt'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.fixture
def voc_copy(tiny_voc, tmp_path):
    """A writable copy of the tiny tree."""
    return pathlib.Path(shutil.copytree(tiny_voc, tmp_path / 'voc'))


def build(root, **kwargs):
    return VOCImageLabelDataset(data_root=str(root), **kwargs)


def all_labels(dataset):
    return {
        pathlib.Path(info['img_path']).stem: info['img_labels']
        for info in (dataset.get_data_info(i) for i in range(len(dataset)))
    }


def test_sources_agree_with_ground_truth(tiny_voc, tmp_path):
    truth = np.load(tiny_voc / 'cls_labels.npy', allow_pickle=True).item()
    by_name = tmp_path / 'names.json'
    by_name.write_text(
        json.dumps({
            n: [VOC_CLASSES[c + 1] for c in np.flatnonzero(v)]
            for n, v in truth.items()
        }))
    by_csv = tmp_path / 'labels.csv'  # names, one cell per image
    by_csv.write_text('image,labels\n' + ''.join(
        f'{n},{" ".join(VOC_CLASSES[i + 1] for i in np.flatnonzero(v))}\n'
        for n, v in truth.items()))
    by_index = tmp_path / 'indices.json'
    by_index.write_text(
        json.dumps({
            n: np.flatnonzero(v).tolist()
            for n, v in truth.items()
        }))
    datasets = [
        build(tiny_voc, ann_file=TRAINVAL),
        build(tiny_voc, ann_file=TRAINVAL, label_source='mask'),
        build(
            tiny_voc,
            ann_file=TRAINVAL,
            label_source='file',
            labels_file='cls_labels.npy'),
        build(
            tiny_voc,
            ann_file=TRAINVAL,
            label_source='file',
            labels_file=str(by_name)),
        build(
            tiny_voc,
            ann_file=TRAINVAL,
            label_source='file',
            labels_file=str(by_index)),
        build(
            tiny_voc,
            ann_file=TRAINVAL,
            label_source='file',
            labels_file=str(by_csv)),
    ]
    # the tree has 1-class and 2-class images
    assert sorted({int(v.sum()) for v in truth.values()}) == [1, 2]
    for dataset in datasets:
        labels = all_labels(dataset)
        assert sorted(labels) == sorted(truth)
        for name, vector in labels.items():
            assert vector.dtype == np.float32
            np.testing.assert_array_equal(vector, truth[name])


def test_variant_tree_is_deterministic(tmp_path):
    roots = [
        make_tiny_voc(tmp_path / str(i), num_images=3, size=(32, 40), seed=1)
        for i in range(2)
    ]
    for rel in ('JPEGImages/2007_000002.jpg',
                'SegmentationClassAug/2007_000002.png',
                'Annotations/2007_000002.xml'):
        assert (roots[0] / rel).read_bytes() == (roots[1] / rel).read_bytes()
    image = cv2.imread(str(roots[0] / 'JPEGImages/2007_000002.jpg'))
    assert image.shape == (32, 40, 3)
    truth = np.load(roots[0] / 'cls_labels.npy', allow_pickle=True).item()
    dataset = build(roots[0], ann_file=TRAINVAL)
    assert len(dataset) == 3
    assert len(build(roots[0], ann_file='ImageSets/Segmentation/val.txt')) == 1
    for name, vector in all_labels(dataset).items():
        np.testing.assert_array_equal(vector, truth[name])


def test_data_info_of_tiny_tree(tiny_voc):
    dataset = build(tiny_voc)
    assert len(dataset) == 4  # train_aug: 6 images less 2 for val
    assert dataset.num_fg_classes == 20
    assert dataset.fg_classes[0] == 'aeroplane'
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(tiny_voc / 'JPEGImages/2007_000000.jpg')
    assert info['seg_map_path'] == str(tiny_voc /
                                       'SegmentationClassAug/2007_000000.png')
    assert info['label_map'] is None
    assert info['reduce_zero_label'] is False
    assert info['seg_fields'] == []
    assert info['img_labels'].shape == (20, )


def write_image(root, name, objects, mask_values=None):
    """One 16x16 image with its XML (and mask when values are given)."""
    cv2.imwrite(
        str(root / 'JPEGImages' / f'{name}.jpg'),
        np.full((16, 16, 3), 100, np.uint8))
    (root / 'Annotations' / f'{name}.xml').write_text(
        voc_xml(name, (16, 16), [(c, (0, 0, 7, 7)) for c in objects]))
    if mask_values is not None:
        mask = np.zeros((16, 16), np.uint8)
        mask.flat[:len(mask_values)] = mask_values
        cv2.imwrite(str(root / 'SegmentationClassAug' / f'{name}.png'), mask)


def test_exact_multi_hot_of_hand_made_image(voc_copy):
    # cat twice and person: classes 8 and 15, foreground indices 7 and 14
    write_image(
        voc_copy,
        'hand', ['cat', 'person', 'cat'],
        mask_values=[8, 15, 255, 0])
    (voc_copy / 'list.txt').write_text('\nhand\n\n')
    expected = np.zeros(20, np.float32)
    expected[[7, 14]] = 1.
    for source in ('xml', 'mask'):
        dataset = build(voc_copy, ann_file='list.txt', label_source=source)
        assert len(dataset) == 1
        np.testing.assert_array_equal(
            dataset.get_data_info(0)['img_labels'], expected)


def test_image_without_mask_has_no_seg_map_path(voc_copy):
    write_image(voc_copy, 'nomask', ['dog'])
    (voc_copy / 'list.txt').write_text('nomask\n')
    info = build(voc_copy, ann_file='list.txt').get_data_info(0)
    assert info['seg_map_path'] is None
    assert np.flatnonzero(info['img_labels']).tolist() == [11]


def test_subset_of_classes_drops_others(voc_copy):
    write_image(voc_copy, 'hand', ['cat', 'person'], mask_values=[8, 15])
    (voc_copy / 'list.txt').write_text('hand\n')
    classes = ('background', 'cat', 'dog')
    for source in ('xml', 'mask'):
        dataset = build(
            voc_copy,
            ann_file='list.txt',
            label_source=source,
            metainfo=dict(classes=classes))
        assert dataset.num_fg_classes == 2
        np.testing.assert_array_equal(
            dataset.get_data_info(0)['img_labels'], [1., 0.])


def test_subclass_with_own_classes(voc_copy):

    class ShapesDataset(VOCImageLabelDataset):
        METAINFO = dict(
            classes=('background', 'circle', 'square'),
            palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]])

    write_image(voc_copy, 'shapes', ['square'], mask_values=[2, 0])
    (voc_copy / 'list.txt').write_text('shapes\n')
    for source in ('xml', 'mask'):
        dataset = ShapesDataset(
            data_root=str(voc_copy), ann_file='list.txt', label_source=source)
        assert dataset.fg_classes == ('circle', 'square')
        np.testing.assert_array_equal(
            dataset.get_data_info(0)['img_labels'], [0., 1.])


def error_of(exc_type, root, **kwargs):
    with pytest.raises(exc_type) as info:
        build(root, **kwargs)
    assert isinstance(info.value, MMAdvError)  # one line from the tools
    message = str(info.value)
    assert '\n' not in message
    return message


def test_missing_list_file(tiny_voc):
    message = error_of(FileNotFoundError, tiny_voc, ann_file='nope.txt')
    assert message == f'image list {tiny_voc / "nope.txt"} not found'


def test_missing_image_names_list_line(voc_copy):
    (voc_copy / 'list.txt').write_text('2007_000000\n\n2007_000032\n')
    message = error_of(FileNotFoundError, voc_copy, ann_file='list.txt')
    assert message == (f'list.txt line 3: '
                       f'{voc_copy / "JPEGImages/2007_000032.jpg"} not found')


def test_missing_xml(voc_copy):
    (voc_copy / 'Annotations/2007_000001.xml').unlink()
    message = error_of(FileNotFoundError, voc_copy)
    assert message == (f'annotation {voc_copy / "Annotations/2007_000001.xml"}'
                       ' not found')


def test_unknown_class_in_xml(voc_copy):
    write_image(voc_copy, 'odd', ['dog', 'unicorn'])
    (voc_copy / 'list.txt').write_text('odd\n')
    message = error_of(ValueError, voc_copy, ann_file='list.txt')
    assert message == (f'{voc_copy / "Annotations/odd.xml"}: image odd has '
                       "unknown class 'unicorn' (the classes: aeroplane, "
                       'bicycle, bird, boat, bottle, bus, car, cat, chair, '
                       'cow, diningtable, dog, horse, motorbike, person, '
                       'pottedplant, sheep, sofa, train, tvmonitor)')


def test_image_without_labels(voc_copy):
    write_image(voc_copy, 'empty', [], mask_values=[0, 255])
    (voc_copy / 'list.txt').write_text('empty\n')
    message = error_of(ValueError, voc_copy, ann_file='list.txt')
    assert message == (f'{voc_copy / "Annotations/empty.xml"}: image empty '
                       'has no foreground class label')
    message = error_of(
        ValueError, voc_copy, ann_file='list.txt', label_source='mask')
    assert message.startswith(
        f'{voc_copy / "SegmentationClassAug/empty.png"}: image empty ')


def test_malformed_xml_and_unreadable_files_are_named(voc_copy):
    xml = voc_copy / 'Annotations/2007_000001.xml'
    xml.write_text(xml.read_text()[:60])  # cut short
    message = error_of(ValueError, voc_copy)
    assert message.startswith(f'{xml}: not a valid XML file (')
    mask = voc_copy / 'SegmentationClassAug/2007_000002.png'
    rgb = cv2.imread(str(mask))  # 3 channels
    cv2.imwrite(str(mask), rgb)
    message = error_of(ValueError, voc_copy, label_source='mask')
    assert message == (f'{mask} is not a single-channel label PNG (shape '
                       f'{rgb.shape})')
    mask.write_bytes(b'')
    message = error_of(ValueError, voc_copy, label_source='mask')
    assert message.startswith(f'cannot decode mask {mask} (')


def test_images_that_do_not_decode_are_named(voc_copy):
    """Read by the pipeline (in a DataLoader worker in training): a 0-byte
    JPEG stops with one line naming it (a truncated one decodes partly:
    tools/check_data.py finds it by its missing end marker)."""
    dataset = build(voc_copy, label_source='mask',
                    pipeline=[dict(type='LoadImageFromFile')])
    first = voc_copy / 'JPEGImages/2007_000000.jpg'
    assert dataset[0]['img'].shape[:2] == cv2.imread(str(first)).shape[:2]
    first.write_bytes(b'')
    with pytest.raises(MMAdvError) as error:
        dataset[0]
    assert str(error.value).startswith(f'cannot load {first} and ')
    assert '\n' not in str(error.value)


def test_skip_invalid_leaves_bad_images_out(voc_copy):
    (voc_copy / 'Annotations/2007_000001.xml').write_text('<annotation>')
    (voc_copy / 'JPEGImages/2007_000002.jpg').write_bytes(b'')
    names = (voc_copy / TRAINVAL).read_text().split()
    dataset = build(voc_copy, ann_file=TRAINVAL, skip_invalid=True,
                    pipeline=[dict(type='LoadImageFromFile')])
    kept = [pathlib.Path(dataset.get_data_info(i)['img_path']).stem
            for i in range(len(dataset))]
    assert kept == [n for n in names if n != '2007_000001']
    bad = kept.index('2007_000002')
    assert dataset.prepare_data(bad) is None  # mmengine draws another
    other = dataset[bad]  # training mode: another image
    assert other['img_path'] != str(voc_copy / 'JPEGImages/2007_000002.jpg')


def test_an_image_listed_twice(voc_copy):
    (voc_copy / 'list.txt').write_text('2007_000000\n2007_000001\n'
                                       '2007_000000\n')
    message = error_of(ValueError, voc_copy, ann_file='list.txt')
    assert message == (f'image list {voc_copy / "list.txt"} names '
                       '2007_000000 twice (lines 1 and 3): list each image '
                       'once')


def test_missing_mask_for_mask_source(voc_copy):
    (voc_copy / 'SegmentationClassAug/2007_000002.png').unlink()
    message = error_of(FileNotFoundError, voc_copy, label_source='mask')
    assert message == (
        f'mask {voc_copy / "SegmentationClassAug/2007_000002.png"} '
        'not found')


def test_labels_file_errors(voc_copy):
    message = error_of(
        FileNotFoundError,
        voc_copy,
        label_source='file',
        labels_file='missing.npy')
    assert message == f'labels_file {voc_copy / "missing.npy"} not found'
    (voc_copy / 'partial.json').write_text(
        json.dumps({'2007_000000': ['dog']}))
    message = error_of(
        ValueError, voc_copy, label_source='file', labels_file='partial.json')
    assert message == (f'{voc_copy / "partial.json"}: no labels for image '
                       '2007_000001')
    with pytest.raises(ValueError, match='needs labels_file'):
        build(voc_copy, label_source='file')


def test_unknown_label_source(tiny_voc):
    message = error_of(ValueError, tiny_voc, label_source='csv')
    assert message == ("label_source must be one of ('xml', 'file', 'mask'),"
                       " got 'csv'")


def test_built_from_registry(tiny_voc):
    dataset = DATASETS.build(
        dict(
            type='VOCImageLabelDataset',
            data_root=str(tiny_voc),
            ann_file='ImageSets/Segmentation/val.txt'))
    assert isinstance(dataset, VOCImageLabelDataset)
    assert len(dataset) == 2


def base_config(tiny_voc, crop=32):
    """The base dataset config on the tiny tree with a small crop."""
    cfg = Config.fromfile(str(BASE_CFG))
    train = cfg.train_dataloader.dataset
    for transform in train.pipeline[1].transforms:  # PSA's augmentation
        if transform.type == 'RandomResize':
            transform.scale = (64, 64)
            transform.ratio_range = (crop / 64, 1.0)
        if transform.type == 'RandomCrop':
            transform.crop_size = (crop, crop)
    train.data_root = str(tiny_voc)
    val = cfg.val_dataloader.dataset
    val.data_root = str(tiny_voc)
    val.data_prefix.seg_map_path = 'SegmentationClassAug'
    return cfg


def test_base_config_values():
    cfg = Config.fromfile(str(BASE_CFG))
    assert cfg.crop_size == (448, 448)
    train = cfg.train_dataloader
    assert train.batch_size == 8
    assert train.sampler == dict(type='InfiniteSampler', shuffle=True)
    assert [t.type for t in train.dataset.pipeline] == [
        'LoadImageFromFile', 'Compose', 'PackWeakSegInputs'
    ]
    augmentation = train.dataset.pipeline[1].transforms
    assert [t.type for t in augmentation] == [
        'RandomResize', 'RandomFlip', 'PhotoMetricDistortion', 'RandomCrop'
    ]
    assert augmentation[3].crop_size == (448, 448)
    resize = augmentation[0]
    assert resize.scale == (768, 768)
    assert resize.ratio_range[0] * 768 == pytest.approx(448)
    assert cfg.val_dataloader.dataset.ann_file.endswith('val.txt')
    assert cfg.test_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])


def test_base_config_train_dataset(tiny_voc):
    cfg = base_config(tiny_voc)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    truth = np.load(tiny_voc / 'cls_labels.npy', allow_pickle=True).item()
    for index in range(len(dataset)):
        item = dataset[index]
        inputs, sample = item['inputs'], item['data_samples']
        assert inputs.dtype == torch.uint8
        # long side resized into [32, 64], short side (3/4 of it) into
        # [24, 48]: the 32x32 window is cut to the short side below 32
        assert inputs.shape[0] == 3 and inputs.shape[2] == 32
        assert 24 <= inputs.shape[1] <= 32
        assert 'gt_sem_seg' not in sample
        name = pathlib.Path(sample.img_path).stem
        assert torch.equal(sample.gt_class_labels,
                           torch.from_numpy(truth[name]))
        assert sample.gt_class_labels.dtype == torch.float32
        assert sample.img_shape == tuple(inputs.shape[1:])


def test_base_config_val_dataset(tiny_voc):
    cfg = base_config(tiny_voc)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(dataset) == 2
    item = dataset[0]
    sample = item['data_samples']
    assert item['inputs'].shape == (3, 48, 64)
    assert item['inputs'].dtype == torch.uint8
    name = pathlib.Path(sample.img_path).stem
    expected = cv2.imread(
        str(tiny_voc / 'SegmentationClassAug' / f'{name}.png'),
        cv2.IMREAD_UNCHANGED)
    assert torch.equal(sample.gt_sem_seg.data,
                       torch.from_numpy(expected[None]).long())
    labels = np.flatnonzero(sample.gt_class_labels.numpy()) + 1
    values = set(np.unique(expected).tolist()) - {0, 255}
    assert labels.tolist() == sorted(values)
