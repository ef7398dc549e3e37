"""How a segmentation network is tested: the protocols the WSSS papers
report their segmentation under, each a change of the test config.

- ``single-scale``: the config's test pipeline and model as they are;
- ``ms-flip``: mmseg's test-time augmentation (what ``tools/test.py
  --tta`` of mmseg does): the config's ``tta_pipeline`` (our segmentation
  configs: mmseg's VOC ``img_ratios`` 0.5, 0.75, ..., 1.75, each also
  flipped) and its ``tta_model`` (ours: :class:`~mmadv.models.
  SegProbTTAModel`, the mean of the views' softmax);
- ``crf``: the config's ``crf_model`` (default :class:`~mmadv.models.
  DenseCRFSegmentor` with deeplab-pytorch's VOC values) around the model;
- ``ms-flip-crf``: both, the CRF on the merged probabilities.
"""
import copy
from dataclasses import dataclass
from typing import Dict, List

from mmengine.config import Config, ConfigDict
from mmseg.registry import MODELS

from ..models.segmentors import DeepLabCRF, SegProbTTAModel
from ..utils.errors import ConfigError

# the CRF around the model when a config sets no crf_model
DEFAULT_CRF_MODEL = dict(type='DenseCRFSegmentor')


@dataclass(frozen=True)
class SegProtocol:
    """A segmentation test protocol (see the module docstring).

    Attributes:
        key (str): Its name in settings and on the command line.
        title (str): Its name in the table.
        tta (bool): Multi-scale and flip testing.
        crf (bool): Dense CRF post-processing.
    """

    key: str
    title: str
    tta: bool
    crf: bool

    def apply(self, cfg: Config) -> Config:
        """A copy of ``cfg`` that tests under this protocol.

        Raises:
            ConfigError: ``tta`` and the config has no ``tta_pipeline`` or
                ``tta_model``, or ``crf`` on a TTA model that keeps no
                merged probabilities (mmseg's ``SegTTAModel``).
        """
        cfg = copy.deepcopy(cfg)
        if self.tta:
            missing = [key for key in ('tta_pipeline', 'tta_model')
                       if not cfg.get(key)]
            if missing:
                raise ConfigError(
                    f'{cfg.filename or "the config"}: no '
                    f'{" and ".join(missing)} for the {self.key} protocol '
                    '(see configs/demo/deeplabv3plus_test-resnet_demo-'
                    'pseudo.py)')
            tta = MODELS.get(cfg.tta_model['type'])
            if self.crf and not (isinstance(tta, type)
                                 and issubclass(tta, SegProbTTAModel)):
                raise ConfigError(
                    f'{cfg.filename or "the config"}: tta_model '
                    f'{cfg.tta_model["type"]} keeps no merged probabilities '
                    f'for the CRF of {self.key}: use SegProbTTAModel')
            cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
            cfg.model = ConfigDict(cfg.tta_model, module=cfg.model)
        if self.crf:
            cfg.model = ConfigDict(cfg.get('crf_model') or DEFAULT_CRF_MODEL,
                                   module=cfg.model)
        return cfg

    def describe(self, cfg: Config) -> str:
        """What it does with ``cfg``, for the table's protocol lines: e.g.
        ``scales (0.5, 1.0) and their flips, mean softmax; dense CRF
        {...}``."""
        parts = ['the test pipeline' if not self.tta else
                 f'scales {tuple(tta_scales(cfg))} and their flips, mean '
                 'softmax']
        if self.crf:
            crf = dict(cfg.get('crf_model') or DEFAULT_CRF_MODEL)
            parts.append(f'dense CRF {crf.get("crf") or DeepLabCRF()}')
        return '; '.join(parts)


def tta_scales(cfg: Config) -> List[float]:
    """The ``scale_factor`` of every ``Resize`` in ``cfg.tta_pipeline``."""
    scales = []

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'Resize' and 'scale_factor' in node:
                scales.append(node['scale_factor'])
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.get('tta_pipeline') or [])
    return scales


SEG_PROTOCOLS: Dict[str, SegProtocol] = {
    protocol.key: protocol
    for protocol in (
        SegProtocol('single-scale', 'single-scale', tta=False, crf=False),
        SegProtocol('ms-flip', 'MS + flip', tta=True, crf=False),
        SegProtocol('crf', 'CRF', tta=False, crf=True),
        SegProtocol('ms-flip-crf', 'MS + flip + CRF', tta=True, crf=True),
    )
}


def protocol_key(tta: bool, crf: bool) -> str:
    """The key of the protocol with (or without) ``tta`` and ``crf``, as
    mmseg's ``tools/test.py --tta`` (and ours, ``--crf``) name it."""
    return next(key for key, protocol in SEG_PROTOCOLS.items()
                if protocol.tta == tta and protocol.crf == crf)


def seg_protocol(key: str) -> SegProtocol:
    """The protocol ``key``; an error naming the known ones."""
    if key not in SEG_PROTOCOLS:
        raise ConfigError(f'segmentation protocol {key!r} unknown (the '
                          f'protocols: {", ".join(SEG_PROTOCOLS)})')
    return SEG_PROTOCOLS[key]
