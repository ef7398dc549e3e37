"""The pipeline end to end at tiny sizes, from Python as the README shows
it: demo data, stage 1 (baseline and adversarial erasing), maps, map
evaluation, pseudo-labels, the DeepLabV3+ stage, its test and the two
refinements of the adversarial erasing maps (PSA's random walk, IRN),
in one process with a quiet console; then a rerun that skips every step,
and the runs that are refused."""
import glob
import json
import os.path as osp
import re
import shutil
from pathlib import Path

import cv2
import mmengine
import mmseg
import numpy as np
import pytest
import timm
import torch
from conftest import TINY, miou_by_hand
from irn_reference import irn_propagate_to_edge
from mmengine.config import Config

import mmadv
import mmadv.engine as engine
from mmadv.apis import (ConfigError, InputError, MissingInputError,
                        PipelineSettings, Row, build_threshold_rule,
                        run_pipeline, summary_table)
from mmadv.pipeline.data import Data
from mmadv.datasets import load_maps, map_path, read_label_png, read_meta
from mmadv.datasets.demo_shapes import VOC_LABELS
from mmadv.engine import init_model
from mmadv.pseudo_labels import boundary_map
from mmadv.visualization import draw_pipeline_figure

REPO = Path(__file__).parents[2]
CONFIGS = ('cam_demo', 'adv_erase_demo')
WALKED = 'adv_erase_demo + random walk'
IRN_ROW = 'adv_erase_demo + IRN'
# the steps of a row, in order
# (with the default threshold rule, whose sweep scores the training maps)
STEPS = ('stage 1', 'maps train_aug', 'threshold train_aug', 'maps val',
         'evaluate maps val', 'pseudo-labels', 'segmentation',
         'test segmentation')
WALK_STEPS = ('affinity labels', 'AffinityNet', *STEPS[1:])
IRN_STEPS = ('relation labels', 'IRNet', *STEPS[1:])


def test_readme_example_returns_the_rows(demo_run):
    rows = demo_run['rows']
    assert list(rows) == [*CONFIGS, WALKED, IRN_ROW]
    with open(osp.join(demo_run['work_dir'], 'metrics.json')) as f:
        assert {name: Row.from_dict(row)
                for name, row in json.load(f).items()} == rows
    printed = [line for line in demo_run['console'].splitlines()
               if re.match(r'^[A-Za-z_ +]+: maps ', line)]
    assert printed == [
        f"{name}: maps {row.map_miou['val']:.1%}, "
        f"segmentation {row.seg_miou:.1%}" for name, row in rows.items()
    ]


def check_scores_by_hand(row: dict, data_root: str) -> None:
    """A row's scores, made again from its files: the maps labelled at
    each threshold of the sweep (background below it, else the best
    class), the pseudo-label PNGs, against the masks (the sweep and the
    training split's scores when the threshold was chosen on every
    training mask)."""
    def gt(image):
        return read_label_png(
            osp.join(data_root, 'SegmentationClass', image + '.png'))

    def labelled(split, threshold):
        folder = row.map_dirs[split]
        with open(osp.join(data_root, f'ImageSets/Segmentation/{split}.txt')
                  ) as f:
            names = f.read().split()
        for image in names:
            classes, maps = load_maps(map_path(folder, image))
            maps = maps.astype(np.float64)
            pred = np.where(maps.max(0) < threshold, 0,
                            classes[maps.argmax(0)] + 1)
            yield pred, gt(image)

    assert row.map_miou['val'] == pytest.approx(
        miou_by_hand(labelled('val', row.bg_threshold)), abs=1e-9)
    labels = sorted(Path(row.pseudo_labels).glob('*.png'))
    assert len(labels) == 12
    if row.threshold_rule != 'train masks':
        return
    thresholds = row.settings['thresholds']
    sweep = {t: miou_by_hand(labelled('train_aug', t)) for t in thresholds}
    assert row.bg_threshold in thresholds
    assert row.map_miou['train_aug'] == pytest.approx(
        sweep[row.bg_threshold], abs=1e-9) == max(sweep.values())
    assert row.pseudo_label_miou == pytest.approx(miou_by_hand(
        (read_label_png(str(p)), gt(p.stem)) for p in labels), abs=1e-9)


def test_every_stage_writes_and_reads_back(demo_run):
    rows = demo_run['rows']
    data_root = rows['cam_demo'].data_root
    with open(osp.join(data_root, 'ImageSets/Segmentation/val.txt')) as f:
        val_names = f.read().split()
    assert len(val_names) == 6
    for name in CONFIGS:
        m = rows[name]
        assert (m.img_dir, m.img_suffix) == (osp.join(
            data_root, 'JPEGImages'), '.jpg')
        check_scores_by_hand(m, data_root)
        # stage 1: a checkpoint with the localizer's weights
        state = torch.load(m.stage1_checkpoint, map_location='cpu',
                           weights_only=False)['state_dict']
        assert any(k.startswith('localizer.') for k in state)
        assert any(k.startswith('adversary.')
                   for k in state) == (name == 'adv_erase_demo')
        # maps: one file per image, the XML's classes, image-sized maps
        with open(osp.join(data_root,
                           'ImageSets/Segmentation/train_aug.txt')) as f:
            train_names = f.read().split()
        for split, names in (('train_aug', train_names), ('val', val_names)):
            folder = osp.join(m.work_dir, f'maps_{split}')
            assert m.map_dirs[split] == folder
            assert read_meta(folder, split)['num_images'] == len(names)
            for image in names:
                classes, maps = load_maps(map_path(folder, image))
                gt = read_label_png(
                    osp.join(data_root, 'SegmentationClass', image + '.png'))
                assert sorted(classes + 1) == sorted(set(gt.ravel()) - {0})
                assert maps.shape == (len(classes), 64, 64)
                assert 0. <= maps.min() and maps.max() <= 1.
        # pseudo-labels: 12 VOC-palette PNGs of the demo's labels
        labels = [
            read_label_png(osp.join(m.pseudo_labels, f'train_{i:06d}.png'))
            for i in range(12)
        ]
        values = set(np.unique(np.stack(labels)).tolist())
        assert values <= {0, 255, *VOC_LABELS}
        # segmentation: checkpoint and mmseg's test metrics
        assert osp.isfile(m.seg_checkpoint)
        with open(osp.join(m.work_dir, 'seg_test',
                           'test_metrics.json')) as f:
            assert json.load(f)['mIoU'] / 100 == pytest.approx(m.seg_miou)


def step_lines(console: str) -> list:
    """``(row label, step, rest)`` of the console's step lines."""
    return re.findall(r'- mmadv - INFO - \[(.+?)\] (.+?): (.*)$', console,
                      re.MULTILINE)


def test_console_shows_one_line_per_step(demo_run):
    console = demo_run['console']
    steps = step_lines(console)
    expected = [(name, step) for name in CONFIGS for step in STEPS]
    expected += [(WALKED, step) for step in WALK_STEPS]
    expected += [(IRN_ROW, step) for step in IRN_STEPS]
    assert [(label, step) for label, step, _ in steps] == expected
    for label, step, rest in steps:
        assert re.search(r'\(\d+ s\)$', rest), (label, step, rest)
    notes = {(label, step): rest for label, step, rest in steps}
    assert re.match(r'0\.\d{3} \(train masks, 12 masks read, mIoU \d+\.\d\d\)',
                    notes[('adv_erase_demo', 'threshold train_aug')])
    # the table, the versions and the protocol under it, where everything
    # is, the README's three lines: no more
    assert len(console.splitlines()) <= len(steps) + 22
    assert sum(line.startswith('versions: torch ')
               for line in console.splitlines()) == 1
    # the rows share one protocol: one line names them all
    protocols = [line for line in console.splitlines()
                 if line.startswith('protocol of ')]
    assert len(protocols) == 1
    assert protocols[0].startswith(
        f'protocol of {", ".join(demo_run["rows"])}: train_aug (12 images) '
        'and val (6 images); maps at scales (1.0,); threshold by '
        'MaskSweepThreshold; pseudo-label CRF off; segmentation tests: '
        'single-scale = the test pipeline; label 255 ignored')
    for noise in ('System environment', 'Config:', 'Checkpoints will be',
                  'Iter(', 'Traceback'):
        assert noise not in console
    # the rest is in each step's log, in its config's folder
    logs = Path(demo_run['work_dir']) / 'adv_erase_demo' / 'logs'
    assert 'System environment' in (logs / 'stage_1.log').read_text()
    assert 'per class results' in (
        logs / 'threshold_train_aug.log').read_text()
    assert (logs / 'random_walk_AffinityNet.log').is_file()
    assert (logs / 'irn_IRNet.log').is_file()
    assert (logs / 'irn_relation_labels.log').is_file()


def test_rows_hold_every_step_time(demo_run):
    rows = demo_run['rows']
    for name, steps in ((CONFIGS[0], STEPS), (CONFIGS[1], STEPS),
                        (WALKED, WALK_STEPS), (IRN_ROW, IRN_STEPS)):
        seconds = rows[name].step_seconds
        assert list(seconds) == [f'[{name}] {step}' for step in steps]
        assert all(s > 0 for s in seconds.values())
    table = summary_table(rows)
    last = [c.strip() for c in table.splitlines()[3].split('|')[1:-1]][-1]
    assert last == f'{sum(rows["cam_demo"].step_seconds.values()):.0f}'


def rerun(demo_run, **changes):
    kwargs = dict(demo_run['kwargs'], **TINY)
    kwargs.update(changes)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(demo_run['folder'])
        return run_pipeline(demo_run['configs'], **kwargs)


def snapshot(folder) -> dict:
    """Every file under ``folder`` with its size and modification time."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns)
            for p in Path(folder).rglob('*') if p.is_file()}


def test_rerun_skips_every_step(demo_run, capsys):
    """Every step done before: one line each, and no file written but the
    table's and the console's log."""
    before = snapshot(demo_run['work_dir'])
    assert rerun(demo_run) == demo_run['rows']
    steps = step_lines(capsys.readouterr().out)
    # 8, 9 and 9 steps a row (STEPS, WALK_STEPS, IRN_STEPS)
    assert len(steps) == 34
    assert all(rest.startswith('done before') for _, _, rest in steps)
    after = snapshot(demo_run['work_dir'])
    work = Path(demo_run['work_dir'])
    assert {p for p in after if after[p] != before.get(p)} == {
        work / 'metrics.json', work / 'pipeline.log'}


def test_outputs_of_other_inputs_are_refused(demo_run):
    """A stage-1 checkpoint replaced (trained again) is taken as a new
    training; the maps it made before are refused, naming the digest that
    differs, old and new; a map folder of other weights likewise at the
    first step that reads it."""
    row = demo_run['rows']['cam_demo']
    checkpoint = Path(row.stage1_checkpoint)
    saved = checkpoint.read_bytes()
    try:
        state = torch.load(checkpoint, map_location='cpu', weights_only=False)
        state['meta']['retrained'] = True
        torch.save(state, checkpoint)
        with pytest.raises(InputError, match=re.escape(
                '[cam_demo] maps train_aug: '
                f'{Path(row.work_dir) / "maps_train_aug"} made from other '
                "inputs (weights: '") + "[0-9a-f]{64}' now '[0-9a-f]{64}'"
                r'\): delete it to make it again$'):
            rerun(demo_run)
    finally:
        checkpoint.write_bytes(saved)
    meta_file = Path(row.map_dirs['val']) / 'meta.json'
    saved = meta_file.read_text()
    try:
        meta_file.write_text(json.dumps(
            dict(json.loads(saved), checkpoint_sha256='0' * 64)))
        with pytest.raises(InputError, match=re.escape(
                '[cam_demo] evaluate maps val: '
                f'{Path(row.work_dir) / "eval_maps_val.json"} made from '
                "other inputs (maps.checkpoint_sha256: '") + '[0-9a-f]{64}'
                r"' now '0{64}'\): delete it"):
            rerun(demo_run)
    finally:
        meta_file.write_text(saved)


def tiny_models(**changes) -> dict:
    """TINY's network options, with the ``changes`` of some networks."""
    return {network: dict(options, **changes.get(network, {}))
            for network, options in TINY['model_cfg_options'].items()}


def test_other_settings_are_refused_naming_what_differs(demo_run):
    work = Path(demo_run['work_dir'])
    with pytest.raises(InputError, match=re.escape(
            f'{work / "cam_demo"} was made with another stage-1 config '
            '(randomness.seed: 0 now 4;')):
        rerun(demo_run, seed=4)
    with pytest.raises(ConfigError, match='unknown settings'):
        rerun(demo_run, pipeline_options=dict(threshold=0.3))
    # another AffinityNet training for the same maps
    with pytest.raises(InputError, match=re.escape(
            'was made with another AffinityNet config '
            '(train_cfg.max_iters: 2 now 3;')):
        rerun(demo_run, model_cfg_options=tiny_models(
            random_walk={'train_cfg.max_iters': 3}))
    # IRN's: another IRNet training, another walk
    with pytest.raises(InputError, match=re.escape(
            'was made with another IRNet config (model.radius: 5 now 4;')):
        rerun(demo_run, model_cfg_options=tiny_models(
            irn={'model.radius': 4}))
    with pytest.raises(InputError, match=re.escape(
            '[adv_erase_demo + IRN] maps train_aug: '
            f'{work / "adv_erase_demo" / "maps_irn_train_aug"} made from '
            'other inputs (refinement.logt: 4 now 3): delete it')):
        rerun(demo_run, pipeline_options={'irn.logt': 3})


def test_a_row_left_out_or_a_setting_added_resumes(demo_run, capsys):
    """Without a refinement, its row is left out and every other step is
    done before; a setting no step reads (the image bound, the processes)
    is not recorded."""
    rows = rerun(demo_run, pipeline_options=dict(irn=None, workers=1,
                                                 max_pixels=10**6))
    assert list(rows) == [*CONFIGS, WALKED]
    steps = step_lines(capsys.readouterr().out)
    assert len(steps) == 25
    assert all(rest.startswith('done before') for _, _, rest in steps)


def test_a_copied_work_directory_resumes(demo_run, tmp_path, capsys):
    """Records hold the paths inside a config's work directory relative to
    it: a copy elsewhere resumes every step, and its rows name the copy's
    files."""
    moved = tmp_path / 'moved'
    shutil.copytree(demo_run['work_dir'], moved,
                    ignore=shutil.ignore_patterns('data'))
    rows = rerun(demo_run, work_dir=str(moved),
                 data_root=demo_run['rows']['cam_demo'].data_root)
    steps = step_lines(capsys.readouterr().out)
    assert len(steps) == 34
    assert all(rest.startswith('done before') for _, _, rest in steps)
    assert list(rows) == list(demo_run['rows'])
    for name, row in rows.items():
        old = demo_run['rows'][name]
        assert row.seg_checkpoint == old.seg_checkpoint.replace(
            str(Path(demo_run['work_dir']).resolve()), str(moved))
        assert row.seg_checkpoint.startswith(str(moved))
        assert (row.map_miou, row.bg_threshold, row.seg_miou) == (
            old.map_miou, old.bg_threshold, old.seg_miou)


def test_everything_is_checked_before_any_training(demo_run, tmp_path):
    data_root = demo_run['rows']['cam_demo'].data_root
    work_dir = tmp_path / 'work'
    configs = [osp.join(REPO, 'configs/demo', f'{c}.py') for c in CONFIGS]

    def fresh(root=data_root, configs=configs, **kwargs):
        return run_pipeline(configs, work_dir=str(work_dir), data_root=root,
                            **dict(TINY, **kwargs))

    # a split that does not exist, named with its file
    with pytest.raises(MissingInputError,
                       match='ImageSets/Segmentation/trainaug.txt'):
        fresh(pipeline_options=dict(train_split='trainaug'))
    with pytest.raises(MissingInputError,
                       match='masks folder .*SegmentationClassAug not found'):
        fresh(pipeline_options=dict(eval_gt_dir='SegmentationClassAug'))
    # a missing mask of the evaluation split, named
    copy = shutil.copytree(data_root, tmp_path / 'data')
    (copy / 'SegmentationClass' / 'val_000002.png').unlink()
    with pytest.raises(MissingInputError, match='1 of the 6 masks of .*val.txt'
                       r' are not in .*\(first: val_000002.png\)'):
        fresh(root=str(copy))
    # the second config's AffinityNet config is missing: the first one
    # is refused too, before it trains or freezes anything
    with pytest.raises(MissingInputError, match='random_walk.config x.py'):
        fresh(pipeline_options=dict(random_walk='x.py'))
    with pytest.raises(ConfigError, match='named apart'):
        fresh(configs=configs[:1] * 2)
    # ImageNet weights that are not there, or would be downloaded
    with pytest.raises(MissingInputError, match='weights file none.pth of '
                       'model.localizer.backbone.checkpoint not found'):
        fresh(cfg_options=dict(TINY['cfg_options'], **{
            'model.localizer.backbone.checkpoint': 'none.pth'}))
    with pytest.raises(ConfigError, match='would be downloaded'):
        fresh(model_cfg_options=dict(seg={
            'model.backbone.init_cfg':
            dict(type='Pretrained', checkpoint='https://x/w.pth')}))
    with pytest.raises(ConfigError, match=r'model.backbone.pretrained=True '
                       'would download weights'):
        fresh(model_cfg_options=dict(seg={'model.backbone.pretrained': True}))
    with pytest.raises(MissingInputError, match='weights file w.pth of '
                       'load_from not found'):
        fresh(model_cfg_options=dict(random_walk={'load_from': 'w.pth'}))
    with pytest.raises(ConfigError, match=r"no model \['affinity'\]"):
        fresh(model_cfg_options=dict(affinity={}))
    assert not [p for p in work_dir.iterdir() if p.is_dir()]


def test_bad_masks_lists_and_labels_are_refused_before_training(
        demo_run, tmp_path):
    """Each of these would have ended a run after stage 1 trained: a mask
    the pipeline scores with that is an RGB picture or holds a value that
    is no class, an image listed twice, a split name that leaves the data
    set, the val loader's labels missing. One line each, nothing
    trained."""
    source = demo_run['rows']['cam_demo'].data_root
    work_dir = tmp_path / 'work'

    def refused(error, match, root, **kwargs):
        with pytest.raises(error, match=match):
            run_pipeline([osp.join(REPO, 'configs/demo/cam_demo.py')],
                         work_dir=str(work_dir), data_root=str(root),
                         **dict(TINY, **kwargs))
        assert not (work_dir / 'cam_demo' / 'stage1').exists()

    root = shutil.copytree(source, tmp_path / 'data')
    masks = root / 'SegmentationClass'
    rgb = masks / 'val_000001.png'
    cv2.imwrite(str(rgb), cv2.imread(str(rgb)))
    refused(InputError, re.escape(
        f"{rgb}: not a single-channel label PNG (shape (64, 64, 3)); save "
        "palette or grayscale indices (a mask of split 'val' the pipeline "
        "reads)"), root)
    shutil.copy(osp.join(source, 'SegmentationClass', 'val_000001.png'), rgb)
    wrong = masks / 'train_000003.png'
    mask = read_label_png(str(wrong))
    mask[0, 0] = 77
    cv2.imwrite(str(wrong), mask)
    refused(InputError, re.escape(
        f"{wrong}: values [77] are not classes 0..20 or 255 (a mask of "
        "split 'train_aug' the pipeline reads)"), root)
    shutil.copy(osp.join(source, 'SegmentationClass', 'train_000003.png'),
                wrong)
    listed = root / 'ImageSets/Segmentation/train_aug.txt'
    listed.write_text(listed.read_text() + 'train_000000\n')
    refused(InputError, f'image list {listed} names train_000000 twice '
            r'\(lines 1 and 13\)', root)
    shutil.copy(osp.join(source, 'ImageSets/Segmentation/train_aug.txt'),
                listed)
    refused(ConfigError, r"split '../val' must be a plain name", root,
            pipeline_options=dict(eval_split='../val'))
    image = root / 'JPEGImages' / 'train_000000.jpg'
    refused(InputError, re.escape(
        f'image {image} is 64 x 64 = 4,096 pixels, above max_pixels 4,000 '
        '(ResNet-38 map inference at scale 2 of it needs about 20 MB); '
        'resize it or raise max_pixels'), root,
            pipeline_options=dict(max_pixels=4000))
    (root / 'Annotations' / 'val_000002.xml').unlink()
    refused(MissingInputError, re.escape(
        f'annotation {root / "Annotations/val_000002.xml"} not found'),
        root)


def test_a_label_png_deleted_from_a_done_folder_is_made_again(
        demo_run, capsys):
    """The pseudo-label step is done only when its folder holds every
    training image's PNG: a deleted one is made again (the same bytes),
    the others kept, and no other step runs."""
    row = demo_run['rows']['cam_demo']
    png = Path(row.pseudo_labels) / 'train_000005.png'
    saved = png.read_bytes()
    # the record of the step's seconds, which the rerun updates
    records = [Path(row.work_dir) / 'records' / 'pseudo-labels.json',
               Path(demo_run['work_dir']) / 'metrics.json']
    texts = [record.read_text() for record in records]
    png.unlink()
    try:
        rows = rerun(demo_run)
    finally:
        for record, text in zip(records, texts):
            record.write_text(text)
    assert png.read_bytes() == saved
    without_seconds = [{
        name: dict(r.to_dict(), step_seconds=None)
        for name, r in each.items()
    } for each in (rows, demo_run['rows'])]
    assert without_seconds[0] == without_seconds[1]
    ran = [(label, step, rest) for label, step, rest in
           step_lines(capsys.readouterr().out)
           if not rest.startswith('done before')]
    assert [(label, step) for label, step, _ in ran] == [('cam_demo',
                                                          'pseudo-labels')]
    assert ran[0][2].startswith('1 written, 11 kept')


def otsu_by_hand(values: np.ndarray, bins: int = 256) -> float:
    """The bin edge ``k / bins`` whose split of ``values`` into ``< k /
    bins`` and the rest has the largest between-class variance
    ``n_0 n_1 (mean_0 - mean_1)^2``, the values taken at their bin
    centres; a loop over the edges."""
    centres = (np.minimum((values * bins).astype(int), bins - 1) + .5) / bins
    best, best_edge = -1., None
    for k in range(1, bins):
        low, high = centres[centres < k / bins], centres[centres >= k / bins]
        if not low.size or not high.size:
            continue
        between = low.size * high.size * (low.mean() - high.mean())**2
        if between > best + 1e-9 * abs(best):
            best, best_edge = between, k / bins
    return best_edge


def test_image_labels_only_run_end_to_end(demo_run, tmp_path):
    """Image labels only, as WSSS is for: a copy of the demo data with no
    masks at all (no SegmentationClass folder), Otsu's rule,
    ``train_gt_dir`` and ``eval_gt_dir`` None. Every step runs; the row
    records the rule and Otsu's threshold of the training maps (by
    hand), no score, and the table says that nothing is scored."""
    source = demo_run['rows']['cam_demo'].data_root
    root = tmp_path / 'data'
    shutil.copytree(source, root)
    with open(root / 'ImageSets/Segmentation/train_aug.txt') as f:
        train_names = f.read().split()
    shutil.rmtree(root / 'SegmentationClass')
    assert not list(root.glob('SegmentationClass*'))
    rows = run_pipeline(
        [osp.join(REPO, 'configs/demo/cam_demo.py')],
        work_dir=str(tmp_path / 'work'), data_root=str(root),
        pipeline_options=dict(threshold_rule=dict(type='OtsuThreshold'),
                              train_gt_dir=None, eval_gt_dir=None),
        **TINY)
    row = rows['cam_demo']
    assert row.threshold_rule == 'Otsu'
    assert row.map_miou == dict(train_aug=None, val=None)
    assert row.pseudo_label_miou is None and row.seg_miou is None
    assert osp.isfile(row.seg_checkpoint)
    assert sorted(osp.basename(p)[:-4] for p in glob.glob(
        osp.join(row.pseudo_labels, '*.png'))) == sorted(train_names)
    tops = []
    for name in train_names:
        classes, maps = load_maps(map_path(row.map_dirs['train_aug'],
                                           name))
        tops.append(maps.max(0) if len(classes) else
                    np.zeros(maps.shape[1:]))
    assert row.bg_threshold == otsu_by_hand(np.concatenate(
        [t.ravel() for t in tops]))
    with open(osp.join(row.work_dir, 'threshold_maps_train_aug.json')
              ) as f:
        choice = json.load(f)
    assert (choice['num_masks'], choice['threshold']) == (
        0, row.bg_threshold)
    table = summary_table(rows).splitlines()
    cells = [c.strip() for c in table[3].split('|')[1:-1]]
    assert cells[1:7] == ['-', '-', f'{row.bg_threshold:.2f}', 'Otsu', '-',
                          '-']
    assert table[-1] == ('cam_demo: no masks of val (eval_gt_dir None): '
                         'image labels only, nothing is scored')


def test_the_masks_a_threshold_rule_reads_are_checked(demo_run, tmp_path):
    """Before any training: a rule that reads masks needs train_gt_dir;
    with 2 of the training masks, the 2-mask rule runs (the split is not
    scored) and the full sweep is refused, naming a missing mask."""
    source = demo_run['rows']['cam_demo'].data_root
    root = tmp_path / 'data'
    shutil.copytree(source, root)
    with open(root / 'ImageSets/Segmentation/train_aug.txt') as f:
        train_names = f.read().split()
    subset = dict(type='SubsetSweepThreshold', num_images=2)
    kept = build_threshold_rule(subset).mask_names(train_names)
    for name in set(train_names) - set(kept):
        (root / 'SegmentationClass' / f'{name}.png').unlink()
    dataset = Config.fromfile(
        osp.join(REPO, 'configs/demo/cam_demo.py')).train_dataloader.dataset

    def check(**settings):
        values = dict(train_gt_dir='SegmentationClass', **settings) if \
            'train_gt_dir' not in settings else settings
        return Data.checked(
            str(root), dataset, PipelineSettings.from_sources(
                ('test', values)), 'cam_demo.py')

    assert not check(threshold_rule=subset).train_scored
    with pytest.raises(MissingInputError,
                       match='10 of the 12 masks .* are not in'):
        check()
    with pytest.raises(ConfigError, match='set train_gt_dir'):
        check(threshold_rule=subset, train_gt_dir=None)
    assert check(threshold_rule=dict(type='OtsuThreshold'),
                 train_gt_dir=None).train_gt is None
    assert Data.checked(
        source, dataset, PipelineSettings.from_sources(
            ('test', dict(train_gt_dir='SegmentationClass'))),
        'cam_demo.py').train_scored


def test_pipeline_summary_table(demo_run):
    row = dict(demo_run['rows']['cam_demo'].to_dict(),
               train_split='train', eval_split='val',
               map_miou=dict(train=0.5, val=0.25), bg_threshold=0.3,
               threshold_rule='20 masks', pseudo_label_miou=None,
               seg_scores={'single-scale': 0.125},
               step_seconds={'[a] x': 1.2, '[a] y': 2.5})
    table = summary_table(dict(a=Row.from_dict(row)))
    cells = [c.strip() for c in table.splitlines()[3].split('|')[1:-1]]
    assert cells == ['a', '50.00', '25.00', '0.30', '20 masks', '-',
                     '12.50', '4']
    # under the table the versions that made the row and its protocol
    # (masks: no note)
    assert table.splitlines()[5:] == [
        f'versions: torch {torch.__version__}, mmengine '
        f'{mmengine.__version__}, mmseg {mmseg.__version__}, timm '
        f'{timm.__version__}, mmadv {mmadv.__version__}',
        'protocol of a: train_aug (12 images) and val (6 images); maps at '
        'scales (1.0,); threshold by MaskSweepThreshold; pseudo-label CRF '
        'off; segmentation tests: single-scale = the test pipeline; label '
        '255 ignored']
    # a row of a metrics.json written before the versions and the
    # protocol: no versions line, the protocol not recorded
    old = {key: value for key, value in row.items()
           if key not in ('versions', 'protocol')}
    assert summary_table(dict(a=Row.from_dict(old))).splitlines()[5:] == [
        'protocol of a: not recorded (written before mmadv recorded it)']
    row['settings'] = dict(row['settings'], eval_gt_dir=None)
    assert summary_table(dict(a=Row.from_dict(row))).splitlines()[-1] == (
        'a: no masks of val (eval_gt_dir None): image labels only, nothing '
        'is scored')


def test_random_walk_adds_a_row(demo_run):
    rows = demo_run['rows']
    walked = rows[WALKED]
    check_scores_by_hand(walked, rows['adv_erase_demo'].data_root)
    # the demo's settings (adv_erase_demo.py), in the rows
    root = rows['adv_erase_demo'].work_dir
    assert walked.work_dir == root
    walk = walked.settings['refinements']['random_walk']
    assert walk['config'].endswith('configs/demo/affinity_demo.py')
    assert walk['affinity_alphas'] == [0.2, 1.0]
    assert (walk['crf'], walk['crf_scale']) == (True, 16)
    assert (walk['bg_alpha'], walk['beta'], walk['logt']) == (0.5, 8, 4)
    assert rows[IRN_ROW].settings['refinements']['random_walk'] == walk
    assert walked.refinement == 'random_walk'
    with open(osp.join(root, 'affinity_labels_train_aug.json')) as f:
        summary = json.load(f)
    assert summary['affinity'] == [0.2, 1.0]
    assert summary['crf'] == dict(t=10, scale_factor=16.0)
    # the affinity config options reached the frozen AffinityNet config
    affinity_cfg = Config.fromfile(osp.join(root, 'configs', 'affinity.py'))
    assert affinity_cfg.train_cfg.max_iters == 2
    assert osp.isfile(walked.model_checkpoint)
    assert walked.model_checkpoint == osp.join(root, 'affinity',
                                               'iter_2.pth')
    for split in ('train_aug', 'val'):
        meta = read_meta(osp.join(root, f'maps_rw_{split}'), split)
        assert meta['stride'] == 2  # the demo's stride-2 embedding
        assert meta['logt'] == 4
    for name in (f'train_{i:06d}' for i in range(12)):
        classes, maps = load_maps(map_path(osp.join(root, 'maps_train_aug'),
                                           name))
        rw_classes, rw_maps = load_maps(
            map_path(osp.join(root, 'maps_rw_train_aug'), name))
        np.testing.assert_array_equal(rw_classes, classes)
        assert rw_maps.shape == maps.shape
        label = read_label_png(
            osp.join(root, 'affinity_labels_train_aug', f'{name}.png'))
        assert set(np.unique(label)) <= {0, 255, *(classes + 1).tolist()}
    assert walked.pseudo_labels.endswith('pseudo_labels_rw_train_aug')
    assert WALKED in summary_table(rows)


def test_irn_adds_a_row(demo_run):
    rows = demo_run['rows']
    row = rows[IRN_ROW]
    check_scores_by_hand(row, rows['adv_erase_demo'].data_root)
    # the demo's settings (adv_erase_demo.py), in the rows
    root = rows['adv_erase_demo'].work_dir
    irn = row.settings['refinements']['irn']
    assert irn['config'].endswith('configs/demo/irn_demo.py')
    assert irn['conf_thres'] == [0.75, 0.5]
    assert (irn['crf'], irn['crf_scale']) == (True, 6)
    assert (irn['radius'], irn['beta'], irn['logt'], irn['flip']) == (
        5, 10, 4, False)
    assert rows[WALKED].settings['refinements']['irn'] == irn
    with open(osp.join(root, 'relation_labels_train_aug.json')) as f:
        summary = json.load(f)
    assert summary['labeler'] == 'RelationLabeler'
    assert summary['conf_thres'] == [0.75, 0.5]
    assert summary['crf'] == dict(t=10, gt_prob=0.7, scale_factor=6.0)
    # the IRNet config options reached the frozen IRNet config
    irn_cfg = Config.fromfile(osp.join(root, 'configs', 'irn.py'))
    assert irn_cfg.train_cfg.max_iters == 2
    assert irn_cfg.train_dataloader.dataset.data_prefix.seg_map_path == \
        osp.join(root, 'relation_labels_train_aug')
    assert row.model_checkpoint == osp.join(root, 'irn', 'iter_2.pth')
    assert osp.isfile(row.model_checkpoint)
    for split in ('train_aug', 'val'):
        meta = read_meta(osp.join(root, f'maps_irn_{split}'), split)
        assert meta['stride'] == 2  # the demo's stride-2 boundary map
        assert (meta['radius'], meta['beta'], meta['logt'], meta['flip']) \
            == (5, 10, 4, False)
        assert meta['maps'] == osp.join(root, f'maps_{split}')
    for name in (f'train_{i:06d}' for i in range(12)):
        classes, maps = load_maps(map_path(osp.join(root, 'maps_train_aug'),
                                           name))
        irn_classes, irn_maps = load_maps(
            map_path(osp.join(root, 'maps_irn_train_aug'), name))
        np.testing.assert_array_equal(irn_classes, classes)
        assert irn_maps.shape == maps.shape
        # IRN's scaling: the walked maps over their one maximum (maps of
        # the 4-iteration localizer that are 0 everywhere stay 0)
        assert irn_maps.max() == pytest.approx(float(maps.max() > 0),
                                               abs=1e-6)
        label = read_label_png(
            osp.join(root, 'relation_labels_train_aug', f'{name}.png'))
        assert set(np.unique(label)) <= {0, 255, *(classes + 1).tolist()}
    assert row.pseudo_labels.endswith('pseudo_labels_irn_train_aug')
    assert IRN_ROW in summary_table(rows)


def test_random_walk_maps_are_psas_walk_of_the_trained_model(demo_run):
    """The random-walk row's maps recomputed by another route on the same
    maps and model, PSA's infer_aff.py with dense matrices: the trained
    AffinityNet's embedding f of each image (as mmseg's preprocessor makes
    it), A_ij = exp(-mean |f_i - f_j|) for every pair closer than the
    radius (the demo's pair rule 'all') and 1 on the diagonal,
    T = A^beta column-normalised, T^(2^logt) by matrix powers, the scores
    [(1 - max)^bg_alpha, maps] average-pooled by the stride, walked,
    upsampled to the image and A'_k = s_k / (s_k + s_bg)."""
    root = demo_run['rows']['adv_erase_demo'].work_dir
    row = demo_run['rows'][WALKED]
    model = init_model(osp.join(root, 'configs', 'affinity.py'),
                       row.model_checkpoint, 'cpu')
    walk = row.settings['refinements']['random_walk']
    assert (model.pair_rule, model.distance) == ('all', 'mean')
    checked = 0
    for name in (f'train_{i:06d}' for i in range(12)):
        classes, maps = load_maps(map_path(osp.join(root, 'maps_train_aug'),
                                           name))
        if not len(classes):
            continue
        bgr = cv2.imread(osp.join(row.img_dir, name + row.img_suffix))
        image = model.data_preprocessor(dict(
            inputs=[torch.from_numpy(bgr).permute(2, 0, 1)]))['inputs'][0]
        with torch.no_grad():
            f = model(image[None], mode='tensor')[0].double()
        dim, height, width = f.shape
        flat = f.reshape(dim, -1).T
        ys, xs = np.divmod(np.arange(height * width), width)
        near = ((ys[:, None] - ys[None]) ** 2 +
                (xs[:, None] - xs[None]) ** 2) < model.radius ** 2
        aff = torch.exp(-torch.cdist(flat, flat, p=1) / dim).numpy()
        aff = np.where(near, aff, 0.)
        np.fill_diagonal(aff, 1.)
        trans = aff ** walk['beta']
        trans = np.linalg.matrix_power(trans / trans.sum(0),
                                       2 ** walk['logt'])
        cams = maps.astype(np.float64)
        scores = np.concatenate([(1 - cams.max(0, keepdims=True)) **
                                 walk['bg_alpha'], cams])
        stride = maps.shape[1] // height
        pooled = torch.nn.functional.avg_pool2d(
            torch.from_numpy(scores)[None], stride)[0].numpy()
        walked = (pooled.reshape(len(scores), -1) @ trans).reshape(
            len(scores), height, width)
        up = torch.nn.functional.interpolate(
            torch.from_numpy(walked)[None], size=maps.shape[1:],
            mode='bilinear', align_corners=False)[0].numpy()
        expected = up[1:] / (up[1:] + up[:1])
        _, refined = load_maps(map_path(
            osp.join(root, 'maps_rw_train_aug'), name))
        np.testing.assert_allclose(refined, expected, atol=2e-3)  # float16
        checked += 1
    assert checked >= 3


def test_irn_maps_are_irns_walk_of_the_trained_model(demo_run):
    """The IRN row's maps recomputed by another route on the same maps and
    model: the trained IRNet's B (boundary_map, pinned against IRN's
    EdgeDisplacement in tests/models/test_irnet.py) on the image as mmseg's
    preprocessor makes it, IRN's dense propagate_to_edge
    (tests/irn_reference.py) of the stage-1 maps at B's grid, then IRN's
    make_sem_seg_labels: upsampled by B's stride, cropped to the image and
    divided by the maximum."""
    root = demo_run['rows']['adv_erase_demo'].work_dir
    row = demo_run['rows'][IRN_ROW]
    model = init_model(osp.join(root, 'configs', 'irn.py'),
                       row.model_checkpoint, 'cpu')
    irn = row.settings['refinements']['irn']
    checked = 0
    for name in (f'train_{i:06d}' for i in range(12)):
        classes, maps = load_maps(map_path(osp.join(root, 'maps_train_aug'),
                                           name))
        if not len(classes) or maps.max() == 0:
            continue
        bgr = cv2.imread(osp.join(row.img_dir, name + row.img_suffix))
        image = model.data_preprocessor(dict(
            inputs=[torch.from_numpy(bgr).permute(2, 0, 1)]))['inputs'][0]
        boundary = boundary_map(model, image, 2, irn['flip'],
                                irn['pad_size']).double().numpy()
        small = torch.nn.functional.interpolate(
            torch.from_numpy(maps.astype(np.float64))[None],
            size=boundary.shape, mode='bilinear', align_corners=False)[0]
        rw = torch.from_numpy(irn_propagate_to_edge(
            small.numpy(), boundary, irn['radius'], irn['beta'],
            irn['logt']))[None]
        rw_up = torch.nn.functional.interpolate(
            rw, scale_factor=2, mode='bilinear',
            align_corners=False)[0, :, :maps.shape[1], :maps.shape[2]]
        expected = (rw_up / torch.max(rw_up)).numpy()
        _, refined = load_maps(map_path(
            osp.join(root, 'maps_irn_train_aug'), name))
        np.testing.assert_allclose(refined, expected, atol=2e-3)  # float16
        checked += 1
    assert checked >= 3


def test_figure_with_and_without_refinements(demo_run, tmp_path):
    rows = demo_run['rows']
    out = draw_pipeline_figure(rows, *CONFIGS, str(tmp_path / 'all.png'))
    # 6 images x 9 panels of 2 x 2 inches at 100 dpi: image, CAM, adversarial
    # erasing map and label, random-walk map and label, IRN map and label,
    # ground truth
    assert cv2.imread(out).shape == (1200, 1800, 3)
    walked = {name: row for name, row in rows.items() if name != IRN_ROW}
    out = draw_pipeline_figure(walked, *CONFIGS, str(tmp_path / 'rw.png'))
    assert cv2.imread(out).shape == (1200, 1400, 3)
    rows = {name: rows[name] for name in CONFIGS}
    out = draw_pipeline_figure(rows, *CONFIGS, str(tmp_path / 'two.png'))
    # 5 panels: image, CAM, adversarial erasing map and label, ground truth
    assert cv2.imread(out).shape == (1200, 1000, 3)
    with pytest.raises(InputError, match='has no results of nope'):
        draw_pipeline_figure(rows, 'nope', CONFIGS[1],
                             str(tmp_path / 'nope.png'))


def test_test_refuses_the_weights_of_another_model(demo_run, tmp_path):
    """mmengine's ``load_from`` is not strict: a segmentation checkpoint
    tested with the CAM config gave an mIoU of random weights. Now one
    line naming both files, and no metrics."""
    row = demo_run['rows']['cam_demo']
    config = osp.join(row.work_dir, 'configs', 'stage1.py')
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    with pytest.raises(InputError) as error:
        engine.test(cfg, row.seg_checkpoint)
    message = str(error.value)
    assert row.seg_checkpoint in message and config in message
    assert 'missing' in message and '\n' not in message
    assert not (tmp_path / 'test_metrics.json').exists()
