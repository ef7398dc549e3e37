"""The segmentation stage as the WSSS papers report it, end to end at tiny
sizes on the README run's baseline: test protocols as columns, a
self-training round and a full-supervision row, each checked by an
independent route (scores by hand from the written predictions, labels
as the argmax of the saved predictions, predictions as the network's
softmax refined by deeplab-pytorch's CRF)."""
import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import TINY, load_tool, miou_by_hand
from deeplab_reference import VOC12_CRF, DenseCRF
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmadv.apis import (SEG_PROTOCOLS, ConfigError, PipelineSettings, Row,
                        run_pipeline, summary_table)
from mmadv.datasets import read_label_png
from mmadv.datasets.prediction_io import load_prediction, prediction_path
from mmadv.engine import init_model
from mmadv.engine.training import without_masks

BASE = 'cam_demo'
ST = 'cam_demo + self-training'
FULL = 'cam_demo full supervision'
UNCERTAIN = (0.3, 0.4)
# the plain protocol and the one with both TTA and the CRF (each alone:
# tests/models/test_segmentors.py)
TESTED = ['single-scale', 'ms-flip-crf']
OPTIONS = dict(seg_protocols=TESTED, self_training=1,
               self_training_protocol='crf',
               self_training_uncertain=list(UNCERTAIN),
               full_supervision=True)


@pytest.fixture(scope='module')
def protocol_run(demo_run, tmp_path_factory):
    """The README run's baseline config (a copy of its work directory: no
    stage 1 again) with every protocol, one self-training round and the
    full-supervision row; its rows and console."""
    work_dir = tmp_path_factory.mktemp('protocols')
    shutil.copytree(Path(demo_run['work_dir']) / BASE, work_dir / BASE)
    config = [c for c in demo_run['configs'] if BASE in c]
    rows = run_pipeline(
        config, work_dir=str(work_dir),
        data_root=demo_run['rows'][BASE].data_root,
        pipeline_options=OPTIONS, **TINY)
    return dict(rows=rows, work_dir=work_dir, demo_run=demo_run)


def test_every_protocol_self_training_and_full_supervision_has_a_row(
        protocol_run):
    rows = protocol_run['rows']
    assert list(rows) == [BASE, ST, FULL]
    base = protocol_run['demo_run']['rows'][BASE]
    # the copied row is the README run's: nothing trained again
    assert rows[BASE].seg_checkpoint.endswith('seg/iter_3.pth')
    assert rows[BASE].seg_miou == base.seg_miou
    for row in rows.values():
        assert list(row.seg_scores) == TESTED
        assert row.seg_miou == row.seg_scores['single-scale']
    assert rows[ST].labels_from == 'self-training'
    assert rows[FULL].labels_from == 'full supervision'
    assert rows[ST].stage1_checkpoint == rows[BASE].stage1_checkpoint
    assert rows[FULL].stage1_checkpoint is None


def test_each_score_is_the_miou_of_the_predictions_by_hand(
        protocol_run, tmp_path):
    """A protocol's score is the mIoU, by hand, of the predictions that
    protocol writes (tools/test.py --out), against the val masks: the
    plain one and the one with both flags."""
    row = protocol_run['rows'][ST]
    tool = load_tool('test.py')
    root = Path(row.data_root)
    config = str(Path(row.work_dir) / 'configs' / 'seg_st1.py')
    for key in TESTED:
        protocol = SEG_PROTOCOLS[key]
        out = tmp_path / key
        flags = ['--tta'] * protocol.tta + ['--crf'] * protocol.crf
        metrics = tool.main([config, row.seg_checkpoint, '--out', str(out),
                             '--work-dir', str(tmp_path / f'w_{key}'),
                             *flags])
        pairs = [(read_label_png(str(p)),
                  read_label_png(str(root / 'SegmentationClass' / p.name)))
                 for p in sorted(out.glob('*.png'))]
        assert len(pairs) == 6
        assert metrics['mIoU'] / 100 == pytest.approx(
            miou_by_hand(pairs), abs=1e-4)
        assert row.seg_scores[key] == pytest.approx(metrics['mIoU'] / 100)


def test_self_training_labels_are_the_argmax_of_the_saved_predictions(
        protocol_run):
    row = protocol_run['rows'][ST]
    work = Path(row.work_dir)
    pred_dir = work / 'seg_pred_train_aug'
    meta = json.loads((pred_dir / 'meta.json').read_text())
    assert meta['format'] == 'predictions'
    assert meta['made_from']['protocol'] == 'crf'
    names = [p.stem for p in sorted(Path(row.pseudo_labels).glob('*.png'))]
    assert len(names) == 12
    for name in names:
        labels, probs = load_prediction(prediction_path(str(pred_dir),
                                                        name), 21)
        expected = labels[probs.argmax(0)]
        top = probs.max(0)
        expected[(top >= UNCERTAIN[0]) & (top < UNCERTAIN[1])] = 255
        np.testing.assert_array_equal(
            read_label_png(str(Path(row.pseudo_labels) / f'{name}.png')),
            expected)
    # the band reached the labeler (its effect: test_prediction_labels.py)
    labels_meta = json.loads(
        (Path(row.pseudo_labels) / 'meta.json').read_text())
    assert (labels_meta['labeler'], labels_meta['uncertain']) == (
        'ArgmaxLabeler', list(UNCERTAIN))
    # the labels' score is the training split's, by hand
    root = Path(row.data_root)
    pairs = [(read_label_png(str(Path(row.pseudo_labels) / f'{n}.png')),
              read_label_png(str(root / 'SegmentationClass' / f'{n}.png')))
             for n in names]
    assert row.pseudo_label_miou == pytest.approx(miou_by_hand(pairs),
                                                  abs=1e-6)


def test_saved_predictions_are_the_networks_softmax_after_deeplabs_crf(
        protocol_run):
    """The predictions a round labels from: the first network's softmax
    on each training image, refined by deeplab-pytorch's CRF (the
    round's protocol 'crf'), of every label that wins a pixel."""
    rows = protocol_run['rows']
    work = Path(rows[ST].work_dir)
    cfg = Config.fromfile(str(work / 'configs' / 'seg.py'))
    model = init_model(cfg, rows[BASE].seg_checkpoint, 'cpu')
    pipeline = Compose(without_masks(cfg.test_dataloader.dataset.pipeline))
    root = Path(rows[ST].data_root)
    for name in ('train_000000', 'train_000007'):
        img_path = str(root / 'JPEGImages' / f'{name}.jpg')
        with torch.no_grad():
            sample = model.test_step(pseudo_collate(
                [pipeline(dict(img_path=img_path))]))[0]
        image = cv2.cvtColor(cv2.imread(img_path), cv2.COLOR_BGR2RGB)
        probs = DenseCRF(*VOC12_CRF.values())(
            image, sample.seg_logits.data.softmax(0).numpy())
        labels, saved = load_prediction(
            prediction_path(str(work / 'seg_pred_train_aug'), name), 21)
        np.testing.assert_array_equal(labels,
                                      np.unique(probs.argmax(0)))
        np.testing.assert_allclose(saved, probs[labels], atol=1e-3)


def test_full_supervision_trains_on_the_training_masks(protocol_run):
    row = protocol_run['rows'][FULL]
    cfg = Config.fromfile(str(Path(row.work_dir) / 'configs' /
                              'seg_full.py'))
    masks = str(Path(row.data_root) / 'SegmentationClass')
    assert cfg.train_dataloader.dataset.data_prefix.seg_map_path == masks
    assert row.pseudo_labels == masks
    assert cfg.train_dataloader.dataset.ann_file.endswith('train_aug.txt')


def test_the_table_shows_each_protocol_and_its_share_of_full_supervision(
        protocol_run):
    rows = protocol_run['rows']
    table = summary_table(rows)
    header = [c.strip() for c in table.splitlines()[1].split('|')[1:-1]]
    assert header[6:9] == ['seg single-scale', 'seg MS + flip + CRF',
                           'seconds']
    lines = {c[0]: c for c in (
        [cell.strip() for cell in line.split('|')[1:-1]]
        for line in table.splitlines()[3:6])}
    for name in (BASE, ST):
        for column, key in enumerate(TESTED, 6):
            score, ceiling = rows[name].seg_scores[key], \
                rows[FULL].seg_scores[key]
            assert lines[name][column] == (
                f'{score * 100:.2f} ({score / ceiling * 100:.0f}%)')
    full = rows[FULL].seg_scores['single-scale']
    assert lines[FULL][6] == f'{full * 100:.2f}'
    assert lines[ST][4] == 'argmax (CRF)'
    protocols = [line for line in table.splitlines()
                 if line.startswith('protocol of ')]
    assert [line.split(':')[0] for line in protocols] == [
        f'protocol of {name}' for name in rows]
    assert protocols[0].startswith(
        'protocol of cam_demo: train_aug (12 images) and val (6 images); '
        'maps at scales (1.0,); threshold by MaskSweepThreshold; '
        'pseudo-label CRF off; segmentation tests: single-scale = the test '
        'pipeline; MS + flip + CRF = scales (0.5, 0.75, 1.0, 1.25, 1.5, '
        '1.75) and their flips, mean softmax; dense CRF DeepLabCRF('
        'iter_max=10, pos_w=3, pos_xy_std=1, bi_w=4, bi_xy_std=67, '
        'bi_rgb_std=3); label 255 ignored')
    assert '; self-training round 1: argmax of CRF predictions, uncertain ' \
        '[0.3, 0.4] ignored; ' in protocols[1]
    assert 'trained on the masks of train_aug; segmentation' in protocols[2]


def test_metrics_json_holds_the_protocol_and_reads_back(protocol_run):
    saved = json.loads((protocol_run['work_dir'] /
                        'metrics.json').read_text())
    rows = {name: Row.from_dict(values) for name, values in saved.items()}
    assert rows == protocol_run['rows']
    protocol = saved[BASE]['protocol']
    assert (protocol['train_images'], protocol['eval_images']) == (12, 6)
    assert protocol['ignore_index'] == 255
    assert protocol['threshold_rule'] == dict(type='MaskSweepThreshold')
    assert list(protocol['seg']) == TESTED
    # an entry written before the protocols: its one score is single-scale
    old = {k: v for k, v in saved[BASE].items()
           if k not in ('seg_scores', 'protocol', 'labels_from')}
    assert Row.from_dict(old).seg_scores == {
        'single-scale': saved[BASE]['seg_miou']}


def test_a_rerun_does_nothing_again(protocol_run, capsys):
    config = [c for c in protocol_run['demo_run']['configs'] if BASE in c]
    rows = run_pipeline(config, work_dir=str(protocol_run['work_dir']),
                        data_root=protocol_run['rows'][BASE].data_root,
                        pipeline_options=OPTIONS, **TINY)
    assert rows == protocol_run['rows']
    steps = [line for line in capsys.readouterr().out.splitlines()
             if '] ' in line and ' - mmadv - INFO - [' in line]
    assert steps and all('done before' in line for line in steps)


@pytest.mark.parametrize('options, message', [
    (dict(seg_protocols=['multi-scale']),
     "segmentation protocol 'multi-scale' unknown"),
    (dict(seg_protocols=[]), 'seg_protocols must not be empty'),
    (dict(self_training=-1), 'self_training'),
    (dict(self_training=1.5), 'self_training'),
    (dict(self_training_protocol='tta'), "protocol 'tta' unknown"),
    (dict(self_training_uncertain=[0.6, 0.2]), 'low <= high'),
])
def test_bad_settings_are_refused(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        PipelineSettings.from_sources(('pipeline options', options))


def test_full_supervision_without_every_mask_is_refused_before_training(
        protocol_run, tmp_path):
    config = [c for c in protocol_run['demo_run']['configs'] if BASE in c]
    with pytest.raises(ConfigError, match='full_supervision trains on the '
                       'masks of every image of train_aug'):
        run_pipeline(config, work_dir=str(tmp_path),
                     data_root=protocol_run['rows'][BASE].data_root,
                     pipeline_options=dict(
                         full_supervision=True, train_gt_dir=None,
                         threshold_rule=dict(type='OtsuThreshold')), **TINY)
    assert not (tmp_path / BASE / 'stage1').exists()


def test_format_only_writes_predictions_of_images_without_masks(
        protocol_run, tmp_path):
    """VOC's test split has no masks: the predictions are written as
    label PNGs, nothing is scored."""
    row = protocol_run['rows'][BASE]
    root = Path(row.data_root)
    masks = root / 'SegmentationClass'
    hidden = tmp_path / 'data'
    shutil.copytree(root / 'JPEGImages', hidden / 'JPEGImages')
    shutil.copytree(root / 'ImageSets', hidden / 'ImageSets')
    config = str(Path(row.work_dir) / 'configs' / 'seg.py')
    out = tmp_path / 'pred'
    load_tool('test.py').main([
        config, row.seg_checkpoint, '--out', str(out), '--format-only',
        '--work-dir', str(tmp_path / 'w'), '--cfg-options',
        f'test_dataloader.dataset.data_root={hidden}'])
    written = sorted(out.glob('*.png'))
    assert [p.stem for p in written] == [f'val_{i:06d}' for i in range(6)]
    assert read_label_png(str(written[0])).shape == read_label_png(
        str(masks / written[0].name)).shape
