"""Label PNGs read back through mmseg, VOC's palette."""
import numpy as np
import pytest
from mmseg.datasets import PascalVOCDataset
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

import mmadv  # noqa: F401
from mmadv.datasets import (colour_labels, label_palette, read_label_png,
                            save_label_png)


def test_png_reads_back_through_mmseg(tmp_path):
    label = np.array([[0, 5, 12], [255, 20, 1]], np.uint8)
    path = tmp_path / 'sub' / 'x.png'
    save_label_png(str(path), label)
    assert [p.name for p in path.parent.iterdir()] == ['x.png']
    results = LoadAnnotations()(
        dict(seg_map_path=str(path), reduce_zero_label=False, seg_fields=[]))
    np.testing.assert_array_equal(results['gt_seg_map'], label)
    with Image.open(path) as png:
        assert png.mode == 'P'
        palette = np.array(png.getpalette()).reshape(-1, 3)
    voc = np.array(PascalVOCDataset.METAINFO['palette'])
    np.testing.assert_array_equal(palette[:21], voc)
    np.testing.assert_array_equal(palette[255], (224, 224, 192))
    assert len(label_palette()) == 768
    np.testing.assert_array_equal(read_label_png(str(path)), label)
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        save_label_png(str(path), label[None])


def test_colour_labels_use_the_palette():
    label = np.array([[0, 3], [255, 20]], np.uint8)
    colours = colour_labels(label)
    palette = np.array(label_palette()).reshape(256, 3)
    assert colours.shape == (2, 2, 3) and colours.dtype == np.uint8
    for (i, j), value in np.ndenumerate(label):
        np.testing.assert_array_equal(colours[i, j], palette[value])


def test_a_data_sets_palette_colours_its_labels(tmp_path):
    own = [[10, 20, 30], [40, 50, 60], [70, 80, 90]]
    label = np.array([[0, 1], [2, 255]], np.uint8)
    path = tmp_path / 'own.png'
    save_label_png(str(path), label, own)
    with Image.open(path) as png:
        palette = np.array(png.getpalette()).reshape(-1, 3)
    np.testing.assert_array_equal(palette[:3], own)
    np.testing.assert_array_equal(palette[3:255], 0)
    np.testing.assert_array_equal(palette[255], (224, 224, 192))
    np.testing.assert_array_equal(
        colour_labels(label, own),
        [[[10, 20, 30], [40, 50, 60]], [[70, 80, 90], [224, 224, 192]]])
