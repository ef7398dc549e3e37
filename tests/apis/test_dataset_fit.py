"""A config's class counts and padding size follow its data set:
``None`` takes the data set's value, a number must equal it; the data
set's classes are read without its files."""
import pytest
from mmengine.config import Config

import mmadv  # noqa: F401
from mmadv.apis import ConfigError, fit_to_dataset
from mmadv.datasets.metainfo import dataset_metainfo

OWN = dict(classes=('background', 'a', 'b', 'c'),
           palette=[[0, 0, 0], [1, 2, 3], [4, 5, 6], [7, 8, 9]])


def config(dataset: dict, padding: dict = dict(size_divisor=1),
           **top) -> Config:
    """A stage-1 and a segmentation model over ``dataset``."""
    return Config(dict(
        model=dict(
            type='AdversarialErasingClassifier',
            data_preprocessor=dict(type='SegDataPreProcessor', **padding),
            localizer=dict(head=dict(type='CAMHead', num_classes=None)),
            adversary=dict(head=dict(type='CAMHead', num_classes=20)),
            decode_head=dict(type='ASPPHead', num_classes=None),
            auxiliary_head=[dict(type='FCNHead', num_classes=None)]),
        train_dataloader=dict(dataset=dict(
            type='RepeatDataset', times=2, dataset=dict(
                dataset,
                pipeline=[dict(type='LoadAnnotations'),
                          dict(type='CheckSegLabels', num_classes=None)]))),
        **top))


def test_none_takes_the_data_sets_counts_and_a_number_is_checked():
    cfg = fit_to_dataset(config(dict(type='VOCImageLabelDataset')))
    model = cfg.model
    assert model.localizer.head.num_classes == 20  # VOC's foreground
    assert model.decode_head.num_classes == 21  # every label
    assert model.auxiliary_head[0].num_classes == 21
    check = cfg.train_dataloader.dataset.dataset.pipeline[1]
    assert (check.num_classes, check.ignore_index) == (21, 255)
    with pytest.raises(ConfigError, match=(
            r'model\.adversary\.head\.num_classes is 20, but the data set '
            r'has 4 classes \(background, a, b, c\), 3 foreground; set it '
            r'to 3 or None$')):
        fit_to_dataset(config(dict(type='ImageLabelDataset', metainfo=OWN)))


def test_the_padding_size_follows_crop_size():
    png = dict(type='LabelPNGDataset')
    cfg = fit_to_dataset(config(png, {}, crop_size=(96, 80)))
    assert cfg.model.data_preprocessor['size'] == (96, 80)
    square = fit_to_dataset(config(png, {}, crop_size=64))  # as RandomCrop
    assert square.model.data_preprocessor['size'] == (64, 64)
    with pytest.raises(ConfigError, match=(
            r'model\.data_preprocessor pads the training batches to no '
            r'size: set crop_size')):
        fit_to_dataset(config(png, {}))
    # each image at its own size
    cfg = fit_to_dataset(config(png, crop_size=(96, 80)))
    assert cfg.model.data_preprocessor.get('size') is None
    cfg = config(png, dict(size=(64, 64)), crop_size=[96, 80])
    with pytest.raises(ConfigError, match=r'data_preprocessor\.size is '
                       r'\(64, 64\), but crop_size is \(96, 80\)'):
        fit_to_dataset(cfg)
    # a crop_size changed in a derived config: the crop its base wrote
    cfg = config(png, crop_size=(96, 80))
    cfg.train_dataloader.dataset.dataset.pipeline.append(dict(
        type='Compose', transforms=[dict(type='RandomCrop',
                                         crop_size=(448, 448))]))
    with pytest.raises(ConfigError, match=(
            r'pipeline\.2\.transforms\.0\.crop_size is \(448, 448\), but '
            r'crop_size is \(96, 80\); set it to \(96, 80\) or None$')):
        fit_to_dataset(cfg)
    # RandomResizedCrop's and Pad's size too (an int is a square)
    for crop in (dict(type='RandomResizedCrop', size=96),
                 dict(type='Pad', size=(96, 96))):
        cfg = config(png, crop_size=(96, 80))
        cfg.train_dataloader.dataset.dataset.pipeline.append(crop)
        with pytest.raises(ConfigError, match=r'pipeline\.2\.size is '
                           r'\(96, 96\), but crop_size is \(96, 80\)'):
            fit_to_dataset(cfg)


def test_a_none_without_a_data_set_is_refused():
    cfg = config(dict(type='LabelPNGDataset'))
    cfg.train_dataloader = None
    with pytest.raises(ConfigError, match=(
            r'model\.localizer\.head\.num_classes is None and the config '
            'has no dataloader')):
        fit_to_dataset(cfg)


def test_the_data_sets_classes_without_its_files():
    assert dataset_metainfo(dict(type='ImageLabelDataset', metainfo=OWN,
                                 data_root='/nowhere')) == dict(
        classes=OWN['classes'], palette=OWN['palette'], ignore_index=255)
    voc = dataset_metainfo(dict(type='LabelPNGDataset'))
    assert len(voc['classes']) == len(voc['palette']) == 21
    assert voc['palette'][1] == [128, 0, 0] and voc['ignore_index'] == 255
    with pytest.raises(ConfigError, match='ignore_index 254'):
        dataset_metainfo(dict(type='LabelPNGDataset', ignore_index=254))
    # classes of one's own without colours: mmseg's, not VOC's
    named = dataset_metainfo(dict(type='LabelPNGDataset',
                                  metainfo=dict(classes=OWN['classes'])))
    assert len(named['palette']) == 4 and named['palette'][1] != [128, 0, 0]
    with pytest.raises(ConfigError, match='names 0 classes'):
        dataset_metainfo(dict(type='ImageLabelDataset'))
    with pytest.raises(ConfigError, match="'NoSuchDataset' is not regis"):
        dataset_metainfo(dict(type='NoSuchDataset'))
