"""tools/check_data.py: every bad image, annotation and mask of a config's
data sets as one line naming it, before any training."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from conftest import load_tool, tool_error
from PIL import Image

import mmadv  # noqa: F401
from mmadv.datasets import save_label_png
from mmadv.datasets.demo_shapes import generate_demo_voc

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def options(root):
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]


@pytest.fixture(scope='module')
def demo_data(tmp_path_factory):
    return generate_demo_voc(str(tmp_path_factory.mktemp('check')),
                             num_train=8, num_val=4, show_progress=False)


def test_good_data_passes_and_bad_files_are_each_one_line(demo_data,
                                                          tmp_path, capsys):
    tool = load_tool('check_data.py')
    config = osp.join(REPO, 'configs', 'demo', 'adv_erase_demo.py')
    report = tool.main([config, '--cfg-options', *options(demo_data)])
    assert report['loaders'] == {
        'train_dataloader': dict(images=8, bad=0),
        'val_dataloader': dict(images=4, bad=0)}  # test = val: once
    root = shutil.copytree(demo_data, tmp_path / 'data')
    train = (root / 'ImageSets/Segmentation/train_aug.txt').read_text() \
        .split()
    val = (root / 'ImageSets/Segmentation/val.txt').read_text().split()
    empty = root / 'JPEGImages' / f'{train[0]}.jpg'
    empty.write_bytes(b'')
    cut = root / 'JPEGImages' / f'{train[1]}.jpg'
    cut.write_bytes(cut.read_bytes()[:200])
    xml = root / 'Annotations' / f'{train[2]}.xml'
    xml.write_text(xml.read_text()[:50])
    rgb = root / 'SegmentationClass' / f'{val[0]}.png'
    cv2.imwrite(str(rgb), cv2.imread(str(rgb)))
    wrong = root / 'SegmentationClass' / f'{val[1]}.png'
    mask = np.array(Image.open(wrong))
    mask[0, 0] = 30
    save_label_png(str(wrong), mask)
    message = tool_error('check_data.py',
                         [config, '--cfg-options', *options(root)])
    assert message.startswith('check_data: error: 5 bad files '
                              '(train_dataloader: 3, val_dataloader: 2); '
                              'first: ')
    printed = capsys.readouterr().out
    for line in (f'{xml}: not a valid XML file (',
                 f'{empty}: empty file',
                 f'{cut}: truncated (no end-of-image marker)',
                 f'{rgb}: not a single-channel label PNG (shape (64, 64, 3))',
                 f'{wrong}: values [30] are not classes 0..20 or 255'):
        assert line in printed


def test_a_list_whose_every_annotation_is_missing(demo_data, tmp_path,
                                                  capsys):
    """A val loader left on label_source='xml' without the XML files: the
    report names the missing file, and no skip_invalid warning appears
    (nobody set it)."""
    root = shutil.copytree(demo_data, tmp_path / 'data')
    for xml in (root / 'Annotations').glob('val_*.xml'):
        xml.unlink()
    config = osp.join(REPO, 'configs', 'demo', 'adv_erase_demo.py')
    assert tool_error('check_data.py',
                      [config, '--cfg-options', *options(root)]) == (
        'check_data: error: 1 bad files (val_dataloader: 1); first: no '
        f'valid image in {root / "ImageSets/Segmentation/val.txt"}: all 4 '
        'were left out (first: annotation '
        f'{root / "Annotations/val_000000.xml"} not found)')
    assert 'skip_invalid' not in capsys.readouterr().out
