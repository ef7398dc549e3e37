"""IRN's inter-pixel relation labels from attention maps (Ahn, Cho and
Kwak, CVPR 2019, Sec. 3.2; ``step/cam_to_ir_label.py`` of
https://github.com/jiwoon-ahn/irn).

Confident foreground is where a map beats a low constant background score
(``conf_fg_thres``), confident background where no map beats a lower one
(``conf_bg_thres``), each labelling refined by IRN's label CRF; what the
two disagree on is unknown. The boundary branch learns from the pairs of
these labels (:func:`~mmadv.models.utils.affinity_pairs.pair_labels`).
"""
from dataclasses import asdict
from typing import Optional

import numpy as np
from mmseg.registry import TASK_UTILS

from ..structures.labels import IGNORE_INDEX
from ..utils.domain import UNIT
from ..utils.errors import ConfigError
from .crf import LabelCRF
from .labeling import checked_maps

# IRN's background scores of the confident foreground and background
# (run_sample.py: conf_fg_thres, conf_bg_thres)
IRN_CONF_THRES = (0.30, 0.05)


@TASK_UTILS.register_module()
class RelationLabeler:
    """The relation label of an image's maps, as IRN's ``cam_to_ir_label``.

    For ``t`` in (``conf_fg_thres``, ``conf_bg_thres``),
    ``y_t = argmax [t, A_1, ..., A_K]`` (0 background, k + 1 map k; a tie
    is background), refined by the label CRF (``crf``). Then::

        label = classes[y_fg - 1] + 1      (the foreground pass's class)
        label[y_fg == 0] = 255              (not confident foreground)
        label[y_fg == 0 and y_bg == 0] = 0  (confident background)

    Args:
        conf_fg_thres (float): The foreground pass's background score
            (IRN's run_sample.py: 0.30).
        conf_bg_thres (float): The background pass's (IRN: 0.05).
        crf (dict, optional): :class:`~mmadv.pseudo_labels.crf.LabelCRF`
            fields (``dict()``: IRN's); None: the argmaxes unrefined.
            Defaults to ``dict()``.
    """

    def __init__(self,
                 conf_fg_thres: float = IRN_CONF_THRES[0],
                 conf_bg_thres: float = IRN_CONF_THRES[1],
                 crf: Optional[dict] = dict()) -> None:
        UNIT.check_each((conf_fg_thres, conf_bg_thres), 'conf_thres')
        if conf_bg_thres > conf_fg_thres:
            raise ConfigError(
                'need conf_bg_thres <= conf_fg_thres, got '
                f'{conf_bg_thres} and {conf_fg_thres}')
        self.conf_fg_thres = conf_fg_thres
        self.conf_bg_thres = conf_bg_thres
        self.crf = None if crf is None else LabelCRF(**crf)

    def settings(self) -> dict:
        """What a label folder records of this labeler."""
        return dict(
            labeler=type(self).__name__,
            conf_thres=[self.conf_fg_thres, self.conf_bg_thres],
            crf=None if self.crf is None else asdict(self.crf))

    def _argmax(self, maps: np.ndarray, background: float,
                image: np.ndarray) -> np.ndarray:
        scores = np.concatenate([np.full((1, *maps.shape[1:]), background,
                                         maps.dtype), maps])
        label = np.argmax(scores, axis=0)
        if self.crf is not None:
            label = self.crf(image, label, scores.shape[0])
        return label

    def __call__(self, classes: np.ndarray, maps: np.ndarray,
                 image: np.ndarray) -> np.ndarray:
        """The label of one image.

        Args:
            classes (np.ndarray): (K,) 0-based foreground classes.
            maps (np.ndarray): (K, H, W) attention maps in [0, 1] of
                ``classes``.
            image (np.ndarray): (H, W, 3) uint8 RGB image (used by the CRF
                only).

        Returns:
            np.ndarray: (H, W) uint8 with values in
            ``{0, 255} | {c + 1 for c in classes}``; all 0 without classes.
        """
        classes, maps = checked_maps(classes, maps)
        if not classes.size:
            return np.zeros(maps.shape[1:], np.uint8)
        keys = np.append(0, classes + 1)
        fg = keys[self._argmax(maps, self.conf_fg_thres, image)]
        bg = keys[self._argmax(maps, self.conf_bg_thres, image)]
        label = fg.copy()
        label[fg == 0] = IGNORE_INDEX
        label[(fg == 0) & (bg == 0)] = 0
        return label.astype(np.uint8)
