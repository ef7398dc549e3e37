"""Images and label PNGs in VOC's layout, of any classes, read as stored."""
from typing import Optional, Sequence

from mmseg.datasets import BaseSegDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from .layout import IMG_SUFFIX


@DATASETS.register_module()
class LabelPNGDataset(BaseSegDataset):
    """``<img_path>/<name>.jpg`` and ``<seg_map_path>/<name>.png`` of the
    names in ``ann_file``: ground-truth masks, pseudo-labels or affinity
    labels, whose value ``l`` is ``metainfo['classes'][l]`` (255 ignored).

    mmseg's ``PascalVOCDataset`` with two differences, for the label PNGs
    mmadv writes in the stage-1 data set's own label space:

    - ``metainfo`` may name any classes (your own data's), not only a
      subset of VOC's; without it the classes are VOC's 21;
    - the PNGs are read as stored: no ``label_map`` remaps a subset.

    Classes named without a palette get mmseg's generated one (VOC's
    palette is for VOC's classes).

    Args:
        img_suffix (str): Defaults to ``'.jpg'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        **kwargs: The other arguments of ``BaseSegDataset``
            (``data_root``, ``data_prefix``, ``ann_file``, ``metainfo``,
            ``pipeline``, ...).
    """
    METAINFO = PascalVOCDataset.METAINFO

    def __init__(self,
                 img_suffix: str = IMG_SUFFIX,
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        meta = super()._load_metainfo(metainfo)
        if metainfo and 'classes' in metainfo and 'palette' not in metainfo:
            meta.pop('palette', None)  # VOC's colours are not theirs
        return meta

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None) -> None:
        """None: the PNGs hold the configured classes' labels as they
        are."""
        return None
