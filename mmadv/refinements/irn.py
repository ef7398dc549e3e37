"""IRN's refinement (Ahn, Cho and Kwak, CVPR 2019): relation labels from
the training maps, IRNet's boundary branch trained on them, and the maps
refined by the random walk on its boundary affinities; a row ``<config>
+ IRN``."""
from dataclasses import dataclass
from typing import Tuple

from ..pseudo_labels.boundary_walk import IRN_WALK, PAD, PAD_SIZE, RADIUS
from ..pseudo_labels.crf import SCALE_FACTOR, LabelCRF
from ..pseudo_labels.map_folders import boundary_walk_maps
from ..pseudo_labels.random_walk import BETA, LOGT
from ..pseudo_labels.relation_labels import IRN_CONF_THRES
from ..utils.domain import UNIT
from ..utils.errors import ConfigError
from ..utils.settings import setting
from .base import REFINEMENTS, ModelRefinement


@REFINEMENTS.register_module(name='irn')
@dataclass(frozen=True)
class IRNSettings(ModelRefinement):
    """IRN's refinement: relation labels (``RelationLabeler``), IRNet, and
    the walk on its class boundaries (:func:`~mmadv.pseudo_labels.
    boundary_walk_maps`)."""

    key = 'irn'
    row = ' + IRN'
    tag = '_irn'
    model = 'irn'
    network = 'IRNet'
    labels = 'relation_labels'
    walk = ('radius', 'beta', 'logt', 'flip', 'pad_size')
    map_writer = staticmethod(boundary_walk_maps)

    config: str = setting(
        doc='the IRNet config (relative to the current directory or the '
        'installed configs)')
    conf_thres: Tuple[float, float] = setting(
        IRN_CONF_THRES,
        'constant background scores of the confident foreground and '
        'background of the relation labels (conf_fg_thres, conf_bg_thres)',
        'IRN\'s run_sample.py', domain=UNIT)
    crf: bool = setting(True, 'IRN\'s label CRF on the relation labels',
                        'IRN\'s cam_to_ir_label.py')
    crf_scale: float = setting(
        LabelCRF.scale_factor,
        'divides the label CRF\'s spatial deviations (for smaller images)',
        'IRN\'s imutils.crf_inference_label', domain=SCALE_FACTOR)
    radius: int = setting(
        IRN_WALK['radius'],
        'pair radius of the walk, in cells of the boundary map',
        'IRN\'s make_sem_seg_labels.py', domain=RADIUS)
    beta: float = setting(IRN_WALK['beta'],
                          'affinity exponent of the transition matrix',
                          'IRN\'s run_sample.py', domain=BETA)
    logt: int = setting(
        IRN_WALK['logt'],
        'log2 of the number of random-walk steps (exp_times)',
        'IRN\'s run_sample.py', domain=LOGT)
    flip: bool = setting(
        True, 'boundary logits averaged with the flipped image\'s',
        'IRN\'s resnet50_irn.EdgeDisplacement')
    pad_size: int = setting(
        PAD_SIZE, 'the image padded to at least this square size for the '
        'boundary map; 0: to a multiple of the backbone\'s coarsest stride '
        'only (small images)', 'IRN\'s EdgeDisplacement crop_size',
        domain=PAD)

    def _check(self) -> None:
        if self.conf_thres[1] > self.conf_thres[0]:
            raise ConfigError('irn.conf_thres must be (fg, bg) with bg <= '
                              f'fg, got {list(self.conf_thres)}')

    def labeler(self) -> dict:
        conf_fg_thres, conf_bg_thres = self.conf_thres
        return dict(type='RelationLabeler', conf_fg_thres=conf_fg_thres,
                    conf_bg_thres=conf_bg_thres, crf=self._label_crf())
