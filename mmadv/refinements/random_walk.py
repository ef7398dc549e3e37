"""PSA's refinement (Ahn and Kwak, CVPR 2018): affinity labels from the
training maps, AffinityNet trained on them, and the maps refined by the
random walk on its affinities; a row ``<config> + random walk``."""
from dataclasses import dataclass
from typing import Tuple

from ..pseudo_labels.affinity_labels import ALPHA
from ..pseudo_labels.crf import SCALE_FACTOR, DenseCRF
from ..pseudo_labels.map_folders import random_walk_maps
from ..pseudo_labels.random_walk import BETA, BG_ALPHA, LOGT
from ..utils.errors import ConfigError
from ..utils.settings import setting
from .base import REFINEMENTS, ModelRefinement


@REFINEMENTS.register_module(name='random_walk')
@dataclass(frozen=True)
class RandomWalkSettings(ModelRefinement):
    """PSA's refinement: affinity labels (``AffinityLabeler``),
    AffinityNet, and its random walk (:func:`~mmadv.pseudo_labels.
    random_walk_maps`)."""

    key = 'random_walk'
    row = ' + random walk'
    tag = '_rw'
    model = 'affinity'
    network = 'AffinityNet'
    labels = 'affinity_labels'
    walk = ('bg_alpha', 'beta', 'logt')
    map_writer = staticmethod(random_walk_maps)

    config: str = setting(
        doc='the AffinityNet config (relative to the current directory or '
        'the installed configs)')
    affinity_alphas: Tuple[float, float] = setting(
        (4, 32),
        'background exponents of the confident foreground and background '
        'of the affinity labels', 'PSA\'s infer_cls.py', domain=ALPHA)
    crf: bool = setting(True, 'dense CRF on the affinity labels',
                        'PSA\'s infer_cls.py')
    crf_scale: float = setting(
        DenseCRF.scale_factor,
        'divides the CRF\'s spatial deviations (for smaller images)',
        'PSA\'s imutils.crf_inference', domain=SCALE_FACTOR)
    bg_alpha: float = setting(
        16, 'background exponent of the walk\'s scores (1 - max)^bg_alpha',
        'PSA\'s infer_aff.py', domain=BG_ALPHA)
    beta: float = setting(8, 'affinity exponent of the transition matrix',
                          'PSA\'s infer_aff.py', domain=BETA)
    logt: int = setting(
        8, 'log2 of the number of random-walk steps', 'PSA\'s infer_aff.py',
        domain=LOGT)

    def _check(self) -> None:
        if self.affinity_alphas[0] > self.affinity_alphas[1]:
            raise ConfigError('random_walk.affinity_alphas must be (low, '
                              f'high), got {list(self.affinity_alphas)}')

    def labeler(self) -> dict:
        low_alpha, high_alpha = self.affinity_alphas
        return dict(type='AffinityLabeler', low_alpha=low_alpha,
                    high_alpha=high_alpha, crf=self._label_crf())
