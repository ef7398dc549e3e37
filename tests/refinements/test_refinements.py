"""Refinements as plugins: one registered in this file gets its row from
``run_pipeline`` with no other code; the dense CRF on the maps (a
refinement without a model) adds its rows, its maps equal to a CRF made
here with pydensecrf and PSA's parameters."""
import os
import os.path as osp
from dataclasses import dataclass

import numpy as np
import pydensecrf.densecrf as dcrf
import pytest
from conftest import TINY, miou_by_hand
from pydensecrf.utils import unary_from_softmax

import mmadv  # noqa: F401
from mmadv.apis import ConfigError, PipelineSettings, run_pipeline
from mmadv.datasets import (load_maps, map_path, read_label_png, read_meta,
                            read_rgb_image, save_maps, write_meta)
from mmadv.datasets.map_io import list_map_names
from mmadv.refinements import REFINEMENTS, Refinement
from mmadv.utils.domain import Domain
from mmadv.utils.settings import setting


@dataclass(frozen=True)
class Sharpen(Refinement):
    """A toy refinement: each map raised to a power."""

    key = 'sharpen'
    row = ' + sharpen'
    tag = '_sharp'

    power: float = setting(2., 'the maps raised to this power',
                           domain=Domain(0, 8, low_open=True))

    def write_maps(self, model, map_dir, split, out_dir, images, workers,
                   max_pixels):
        meta = read_meta(map_dir, split)
        names, _ = list_map_names(map_dir, meta)
        os.makedirs(out_dir, exist_ok=True)
        write_meta(out_dir, **dict(meta, power=self.power))
        for name in names:
            classes, maps = load_maps(map_path(map_dir, name))
            save_maps(map_path(out_dir, name), classes, maps**self.power)
        return dict(total=len(names), skipped=0, written=len(names))


@pytest.fixture
def sharpen():
    REFINEMENTS.register_module(name='sharpen', module=Sharpen)
    try:
        yield Sharpen
    finally:
        REFINEMENTS.module_dict.pop('sharpen')


def rerun(demo_run, model_cfg_options=None, **options):
    kwargs = dict(demo_run['kwargs'], **TINY)
    if model_cfg_options:
        kwargs['model_cfg_options'] = model_cfg_options
    kwargs['pipeline_options'] = dict(kwargs.get('pipeline_options') or {},
                                      **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(demo_run['folder'])
        return run_pipeline(demo_run['configs'], **kwargs)


def map_miou(folder, data_root, split, threshold):
    """The mIoU of the maps of ``folder`` at ``threshold``, by hand."""
    with open(osp.join(data_root, f'ImageSets/Segmentation/{split}.txt')
              ) as f:
        names = f.read().split()

    def pairs():
        for name in names:
            classes, maps = load_maps(map_path(folder, name))
            maps = maps.astype(np.float64)
            yield (np.where(maps.max(0) < threshold, 0,
                            classes[maps.argmax(0)] + 1),
                   read_label_png(osp.join(data_root, 'SegmentationClass',
                                           name + '.png')))

    return miou_by_hand(pairs())


def test_a_plugin_in_one_file_gets_its_row(demo_run, sharpen, capsys):
    """Registered here and named in the settings, the toy refinement adds
    a row to the demo's run: every step of the other rows is done before
    (a new refinement does not make the work directory refuse), its maps
    are the stage-1 maps squared, its scores those of its maps."""
    rows = rerun(demo_run, sharpen=dict(power=2))
    assert list(rows) == [
        'cam_demo', 'cam_demo + sharpen', 'adv_erase_demo',
        'adv_erase_demo + random walk', 'adv_erase_demo + IRN',
        'adv_erase_demo + sharpen'
    ]
    out = capsys.readouterr().out
    ran = [line for line in out.splitlines()
           if '] ' in line and 'done before' not in line and
           ' - mmadv - INFO - [' in line]
    assert ran and all('+ sharpen]' in line for line in ran)
    row = rows['adv_erase_demo + sharpen']
    assert row.refinement == 'sharpen' and row.model_checkpoint is None
    first = rows['adv_erase_demo']
    for split in ('train_aug', 'val'):
        assert row.map_dirs[split].endswith(f'maps_sharp_{split}')
        for name in list_map_names(first.map_dirs[split],
                                   read_meta(first.map_dirs[split]))[0][:4]:
            classes, maps = load_maps(map_path(first.map_dirs[split], name))
            sharp_classes, sharp = load_maps(map_path(row.map_dirs[split],
                                                      name))
            np.testing.assert_array_equal(sharp_classes, classes)
            # float16 on disk
            np.testing.assert_allclose(sharp, maps.astype(np.float32)**2,
                                       atol=2e-3)
    assert row.map_miou['val'] == pytest.approx(
        map_miou(row.map_dirs['val'], row.data_root, 'val',
                 row.bg_threshold), abs=1e-9)
    assert row.seg_miou is not None
    with pytest.raises(ConfigError, match=r'setting sharpen.power must be a '
                       r'number in \(0, 8\], got 9'):
        PipelineSettings.from_sources(('options', dict(sharpen=dict(
            power=9))))


def crf_by_hand(maps, image, bg_alpha, scale):
    """PSA's ``_crf_with_alpha`` and ``crf_inference`` of one image, with
    pydensecrf itself: the refined maps ``Q_k / (Q_k + Q_bg)``."""
    scores = np.concatenate(
        [(1 - maps.max(0, keepdims=True))**bg_alpha, maps]).astype(
            np.float32)
    h, w = image.shape[:2]
    crf = dcrf.DenseCRF2D(w, h, len(scores))
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(scores)))
    crf.addPairwiseGaussian(sxy=3 / scale, compat=3)
    crf.addPairwiseBilateral(sxy=80 / scale, srgb=13,
                             rgbim=np.ascontiguousarray(image), compat=10)
    q = np.array(crf.inference(10)).reshape(len(scores), h, w)
    return q[1:] / (q[1:] + q[:1])


def test_the_dense_crf_on_the_maps_adds_a_row(demo_run, capsys):
    """``dense_crf`` (the "CAM + CRF" rows of the PSA, IRN and SEAM
    tables) needs no model: a row for each config, its maps the CRF of
    the stage-1 maps as PSA's code makes it."""
    rows = rerun(demo_run, dense_crf=dict(crf_scale=4, bg_alpha=2))
    assert 'cam_demo + CRF' in rows and 'adv_erase_demo + CRF' in rows
    row = rows['cam_demo + CRF']
    assert row.refinement == 'dense_crf' and row.model_checkpoint is None
    first = rows['cam_demo']
    meta = read_meta(row.map_dirs['val'], 'val')
    assert (meta['bg_alpha'], meta['crf']) == (2, dict(t=10, scale_factor=4))
    for name in ('val_000000', 'val_000003'):
        classes, maps = load_maps(map_path(first.map_dirs['val'], name))
        image = read_rgb_image(osp.join(first.img_dir, name + '.jpg'))
        crf_classes, refined = load_maps(map_path(row.map_dirs['val'], name))
        np.testing.assert_array_equal(crf_classes, classes)
        np.testing.assert_allclose(refined, crf_by_hand(maps, image, 2, 4),
                                   atol=2e-3)  # float16 on disk
    assert row.map_miou['val'] == pytest.approx(
        map_miou(row.map_dirs['val'], row.data_root, 'val',
                 row.bg_threshold), abs=1e-9)


def test_irns_paper_protocol_adds_its_row(demo_run):
    """``irn_paper``: a row beside the pipeline's IRN row with IRN's
    settings and its fixed background threshold 0.25 (the pipeline's rows
    choose theirs by the mask sweep), its own IRNet; other values than
    IRN's are refused."""
    models = dict(TINY['model_cfg_options'],
                  irn_paper=TINY['model_cfg_options']['irn'])
    rows = rerun(demo_run, irn_paper='configs/demo/irn_demo.py',
                 model_cfg_options=models)
    row = rows['adv_erase_demo + IRN (paper protocol)']
    assert row.refinement == 'irn_paper'
    assert row.bg_threshold == 0.25 and row.threshold_rule == 'fixed'
    assert rows['adv_erase_demo + IRN'].threshold_rule == 'train masks'
    assert row.model_checkpoint.endswith(osp.join('irn_paper', 'iter_2.pth'))
    meta = read_meta(row.map_dirs['val'], 'val')
    assert (meta['radius'], meta['beta'], meta['logt'], meta['flip'],
            meta['pad_size']) == (5, 10, 8, True, 512)
    assert row.map_miou['val'] == pytest.approx(
        map_miou(row.map_dirs['val'], row.data_root, 'val', 0.25),
        abs=1e-9)
    with pytest.raises(ConfigError, match=r'^irn_paper.logt is 8 in the '
                       r"paper's protocol, got 4"):
        PipelineSettings.from_sources(('options', dict(irn_paper=dict(
            config='configs/demo/irn_demo.py', logt=4))))
