"""PSA's and IRN's refinements under their papers' protocols: a row
``<config> + random walk (paper protocol)`` or ``+ IRN (paper protocol)``
beside the pipeline's own, for numbers that compare with the published
ones.

The pipeline's rows choose every background threshold by its
``threshold_rule`` (by default the sweep on the training masks, which
neither paper uses); a paper-protocol row uses the paper's fixed one, and
takes each setting at the paper's value only (a value of another is
refused): PSA's ``infer_aff.py`` (affinity labels with alphas 4 and 32 and
the dense CRF, ``bg_alpha`` 16, ``beta`` 8, ``2^8`` steps, the argmax of
the walked scores, which is a threshold of 0.5 on the refined maps) and
IRN's ``run_sample.py`` (relation labels with 0.30 and 0.05 and the label
CRF, radius 5, ``beta`` 10, ``2^8`` steps, the flip, B's input padded to
512, ``sem_seg_bg_thres`` 0.25). Each trains its own model (folders
``affinity_paper``, ``irn_paper``), as its labels are the paper's.
"""
from dataclasses import dataclass, fields

from ..utils.errors import ConfigError
from .base import REFINEMENTS
from .irn import IRNSettings
from .random_walk import RandomWalkSettings


class PaperProtocol:
    """Mixin: every setting but the model's ``config`` at its default (the
    paper's value), and the row's threshold fixed at ``threshold``."""

    threshold = 0.5

    def _check(self) -> None:
        super()._check()
        for f in fields(self):
            if f.name != 'config' and getattr(self, f.name) != \
                    self.default(f.name):
                raise ConfigError(
                    f'{self.key}.{f.name} is {self.default(f.name)!r} in '
                    f'the paper\'s protocol, got {getattr(self, f.name)!r} '
                    f'(the pipeline\'s own row takes other values)')

    def threshold_rule(self) -> dict:
        return dict(type='FixedThreshold', threshold=self.threshold)


@REFINEMENTS.register_module(name='random_walk_paper')
@dataclass(frozen=True)
class RandomWalkPaper(PaperProtocol, RandomWalkSettings):
    """PSA's refinement as ``infer_aff.py`` runs it: the argmax of the
    walked background and class scores (0.5 on the refined maps)."""

    key = 'random_walk_paper'
    row = ' + random walk (paper protocol)'
    tag = '_rw_paper'
    model = 'affinity_paper'
    labels = 'affinity_labels_paper'
    threshold = 0.5


@REFINEMENTS.register_module(name='irn_paper')
@dataclass(frozen=True)
class IRNPaper(PaperProtocol, IRNSettings):
    """IRN's refinement as ``run_sample.py`` runs it: background below
    ``sem_seg_bg_thres`` 0.25."""

    key = 'irn_paper'
    row = ' + IRN (paper protocol)'
    tag = '_irn_paper'
    model = 'irn_paper'
    labels = 'relation_labels_paper'
    threshold = 0.25
