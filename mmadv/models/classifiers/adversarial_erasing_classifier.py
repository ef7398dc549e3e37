"""End-to-end adversarial erasing (Stammes et al., "Find it if You Can",
arXiv 2011.04626): a localizer and an adversary trained with opposing
losses in one ``train_step``."""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList)

from ...structures.labels import DEFAULT_BG_THRESHOLD, threshold_labels
from ...utils.domain import UNIT
from ..heads.eraser_head import ErasingResult, normalized_attention_maps

LOCALIZER_PHASE, ADVERSARY_PHASE, BOTH_PHASES = 0, 1, 2


def _unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (Separate)DistributedDataParallel wrapper."""
    return module.module if is_model_wrapper(module) else module


@contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Gradients flow through ``module`` to its input, not into its
    parameters (mmagic's ``set_requires_grad`` pattern)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@MODELS.register_module()
class AdversarialErasingClassifier(BaseSegmentor):
    """Localizer + eraser head + adversary, with the CAM as segmentation.

    Training (``train_step`` over an ``OptimWrapperDict`` with the keys
    ``localizer`` and ``adversary``, or one ``OptimWrapper`` when there is
    no adversary):

    * localizer phase: logits s, maps A and erased images I*_k of every
      (image, present class) pair k from the eraser head; the localizer
      minimises ``BCE(s, y) + alpha L_am + beta L_reg`` where
      ``L_am = mean_k sigmoid(adversary(I*_k))[c_k]`` and
      ``L_reg = mean A``. Gradients flow through the adversary into the
      masks; its parameters are frozen.
    * adversary phase: masks computed without gradient (no backward through
      the localizer); the adversary minimises
      ``BCE(adversary(I*_k), y_{n_k})``, the full label of the source image:
      it tries to still find every class.

    Alternation: blocks of ``localizer_iters`` localizer iterations then
    ``adversary_iters`` adversary iterations, localizer first (reference:
    200 and 200), or both every iteration with ``simultaneous=True``. The
    phase is derived from the ``iteration`` buffer, which is saved in and
    resumed from checkpoints with the model.

    Variants (the paper's comparison), by config:

    * full method: ``adversary`` set.
    * weight-sharing erasing (GAIN-style "previous adversarial erasing"):
      ``adversary=None``; the localizer classifies its own erased images
      and minimises ``L_am`` on them.
    * baseline CAM: ``attention_mining_loss=None`` (alpha = 0): no erasing;
      BCE, plus ``beta L_reg`` on the maps when ``regularization_loss`` is
      set (EADER's localizer-only run keeps it).

    Prediction: for the image's labelled classes (``gt_class_labels``; if
    absent, the classes with ``sigmoid(s) > cls_threshold``),
    ``seg_logits = [bg_threshold, A_1, ..., A_C]`` (absent classes 0) at the
    original image size, and ``pred_sem_seg`` is the labelling rule
    (:func:`~mmadv.pseudo_labels.labeling.threshold_labels`) of their maps:
    background where the highest map is below ``bg_threshold``, the best
    class elsewhere; mmseg's ``IoUMetric`` scores it.

    Args:
        localizer (dict): ``MultiLabelClassifier`` config (backbone + CAM
            head).
        adversary (dict, optional): classifier of erased images; None for
            the baseline and weight-sharing variants.
        eraser_head (dict): ``EraserHead`` config (omega, sigma).
        cls_loss (dict): localizer classification loss. Default: sigmoid
            BCE averaged over N x C (PSA's multilabel soft margin).
        adversary_loss (dict): adversary loss on erased images (BCE).
        attention_mining_loss (dict, optional): ``AttentionMiningLoss``
            (alpha = 0.05). None: baseline CAM.
        regularization_loss (dict, optional): ``AttentionRegularizationLoss``
            (beta = 1e-5). None: no area penalty.
        train_cam_weights (bool): Whether L_am and L_reg train the
            localizer's classifier weights through the maps. Default:
            False, EADER's: its Grad-CAM weights come from a backward
            without ``create_graph`` (``attention_map_wrapper.py``), so
            they are constants to L_am and L_reg, which train the backbone
            through the features only; the classifier weights learn from
            the classification loss alone. True: mmadv's earlier behaviour
            (the maps are ``w_c . F`` with ``w_c`` trainable).
        localizer_iters (int): localizer block length, in optimizer steps
            (iterations times the optimizer wrappers'
            ``accumulative_counts``, as mmagic counts discriminator steps).
            Default: 200.
        adversary_iters (int): adversary block length, in optimizer steps.
            Default: 200.
        simultaneous (bool): update both networks every iteration instead of
            alternating blocks. Default: False.
        bg_threshold (float): background score of predictions. Default:
            0.25; ``tools/eval_cam.py`` sweeps it.
        cls_threshold (float): class presence threshold when an image has
            no label at prediction. Default: 0.5.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 localizer: ConfigType,
                 adversary: OptConfigType = None,
                 eraser_head: ConfigType = dict(type='EraserHead'),
                 cls_loss: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     avg_non_ignore=True,
                     loss_name='loss_cls'),
                 adversary_loss: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     avg_non_ignore=True,
                     loss_name='loss_adv'),
                 attention_mining_loss: OptConfigType = dict(
                     type='AttentionMiningLoss', loss_weight=0.05),
                 regularization_loss: OptConfigType = dict(
                     type='AttentionRegularizationLoss', loss_weight=1e-5),
                 localizer_iters: int = 200,
                 adversary_iters: int = 200,
                 simultaneous: bool = False,
                 bg_threshold: float = DEFAULT_BG_THRESHOLD,
                 cls_threshold: float = 0.5,
                 train_cam_weights: bool = False,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if localizer_iters < 1 or adversary_iters < 1:
            raise ValueError('localizer_iters and adversary_iters must be '
                             f'>= 1, got {localizer_iters}, '
                             f'{adversary_iters}')
        if adversary is not None and attention_mining_loss is None:
            raise ValueError('an adversary needs attention_mining_loss '
                             '(alpha > 0): without it nothing is erased')
        self.localizer = MODELS.build(localizer)
        self.adversary = MODELS.build(adversary) if adversary else None
        self.eraser_head = MODELS.build(eraser_head)
        self.cls_loss = MODELS.build(cls_loss)
        self.adversary_loss = MODELS.build(adversary_loss)
        self.attention_mining_loss = (
            MODELS.build(attention_mining_loss)
            if attention_mining_loss else None)
        self.regularization_loss = (
            MODELS.build(regularization_loss)
            if regularization_loss else None)
        self.localizer_iters = localizer_iters
        self.adversary_iters = adversary_iters
        self.simultaneous = simultaneous
        self.bg_threshold = UNIT.check(bg_threshold, 'bg_threshold')
        self.cls_threshold = UNIT.check(cls_threshold, 'cls_threshold')
        self.train_cam_weights = train_cam_weights
        self.align_corners = False
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))
        # iterations per optimizer step (the wrappers' accumulative_counts)
        self._accumulation = 1

    # ----------------------------------------------------------- structure
    @property
    def with_erasing(self) -> bool:
        return self.attention_mining_loss is not None

    @property
    def with_adversary(self) -> bool:
        return self.adversary is not None

    @property
    def phase(self) -> int:
        """``LOCALIZER_PHASE``, ``ADVERSARY_PHASE`` or ``BOTH_PHASES`` for
        the next training iteration."""
        if not self.with_adversary:
            return LOCALIZER_PHASE
        if self.simultaneous:
            return BOTH_PHASES
        cycle = self.localizer_iters + self.adversary_iters
        steps = int(self.iteration) // self._accumulation
        if steps % cycle < self.localizer_iters:
            return LOCALIZER_PHASE
        return ADVERSARY_PHASE

    @staticmethod
    def image_labels(data_samples: SampleList) -> torch.Tensor:
        """(N, C) multi-hot labels from ``data_samples[i].gt_class_labels``.
        """
        try:
            return torch.stack([s.gt_class_labels for s in data_samples])
        except AttributeError:
            raise KeyError('data samples have no gt_class_labels: pack the '
                           'inputs with PackWeakSegInputs') from None

    def erase(self,
              inputs: torch.Tensor,
              labels: torch.Tensor,
              localizer: Optional[nn.Module] = None
              ) -> Tuple[torch.Tensor, ErasingResult]:
        """Localizer logits (N, C) and the erasing of every labelled pair.

        ``localizer`` defaults to ``self.localizer``; the adversary phase
        passes the unwrapped module, a forward without backward needing no
        DDP gradient sync.
        """
        logits, cams = (localizer or self.localizer)(
            inputs, cam_weights_grad=self.train_cam_weights)
        return logits, self.eraser_head(inputs, cams, labels)

    # ------------------------------------------------------------ training
    def loss(self, inputs: torch.Tensor,
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The localizer's losses (and erasing statistics) for a batch.

        Returns:
            dict: ``loss_cls``; with erasing also ``loss_am``, ``loss_reg``
            (weighted), the unweighted ``am_score`` (L_am), ``map_area``
            (L_reg) and ``mask_area`` (mean of M), and ``num_pairs``, the
            K labelled (image, class) pairs. A batch without any (no image
            has a label) has zero erasing losses and statistics, not the
            NaN of means over nothing.
        """
        labels = self.image_labels(data_samples)
        if not self.with_erasing:
            if self.regularization_loss is None:
                logits, _ = self.localizer(inputs)
                return {
                    self.cls_loss.loss_name: self.cls_loss(logits, labels)
                }
            # the baseline with the area penalty (EADER's localizer-only
            # run keeps beta L_reg): the maps, nothing erased
            logits, erasing = self.erase(inputs, labels)
            return {
                self.cls_loss.loss_name:
                self.cls_loss(logits, labels),
                self.regularization_loss.loss_name:
                self.regularization_loss(erasing.maps) if len(
                    erasing.maps) else erasing.maps.sum(),
                'map_area':
                erasing.maps.detach().mean() if len(erasing.maps) else
                erasing.maps.new_zeros(())
            }
        logits, erasing = self.erase(inputs, labels)
        losses = {self.cls_loss.loss_name: self.cls_loss(logits, labels)}
        num_pairs = len(erasing.pair_classes)
        if not num_pairs:
            zero = erasing.maps.sum()  # 0, in the graph
            for loss in (self.attention_mining_loss,
                         self.regularization_loss):
                if loss is not None:
                    losses[loss.loss_name] = zero
            losses.update(am_score=zero.detach(), map_area=zero.detach(),
                          mask_area=zero.detach(),
                          num_pairs=zero.new_zeros(()))
            return losses
        classifier = _unwrap(self.adversary or self.localizer)
        if self.with_adversary:
            with _frozen(classifier):
                erased_logits, _ = classifier(erasing.erased_images)
        else:
            erased_logits, _ = classifier(erasing.erased_images)
        losses[self.attention_mining_loss.loss_name] = \
            self.attention_mining_loss(erased_logits, erasing.pair_classes)
        if self.regularization_loss is not None:
            losses[self.regularization_loss.loss_name] = \
                self.regularization_loss(erasing.maps)
        with torch.no_grad():
            score = erased_logits.gather(1, erasing.pair_classes[:, None])
            losses['am_score'] = score.sigmoid().mean()
            losses['map_area'] = erasing.maps.mean()
            losses['mask_area'] = erasing.masks.mean()
            losses['num_pairs'] = score.new_tensor(float(num_pairs))
        return losses

    def adversary_losses(
            self, inputs: torch.Tensor,
            data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The adversary's loss on erased images; the masks come from the
        localizer without gradient. ``num_pairs`` counts the erased images;
        without any the loss is 0 with a zero gradient for every parameter
        (so that DDP's ranks still meet in the backward)."""
        labels = self.image_labels(data_samples)
        with torch.no_grad():
            _, erasing = self.erase(inputs, labels, _unwrap(self.localizer))
        num_pairs = inputs.new_tensor(float(len(erasing.pair_classes)))
        if not num_pairs:  # nothing erased: nothing to learn
            zero = sum(p.sum() for p in self.adversary.parameters()) * 0
            return {self.adversary_loss.loss_name: zero,
                    'mask_area': inputs.new_zeros(()),
                    'num_pairs': num_pairs}
        logits, _ = self.adversary(erasing.erased_images)
        return {
            self.adversary_loss.loss_name:
            self.adversary_loss(logits, labels[erasing.pair_images]),
            'mask_area': erasing.masks.mean(),
            'num_pairs': num_pairs
        }

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """One iteration of the current phase (see the class docstring).

        Args:
            data (dict): a batch from the dataloader.
            optim_wrapper (OptimWrapperDict | OptimWrapper): ``localizer``
                and ``adversary`` wrappers; a single wrapper is taken as the
                localizer's when there is no adversary.

        Returns:
            dict: log variables: ``loss_localizer`` and its terms in
            localizer iterations, ``loss_adversary`` in adversary
            iterations, ``phase`` (0 localizer, 1 adversary, 2 both).
        """
        if isinstance(optim_wrapper, OptimWrapperDict):
            localizer_wrapper = optim_wrapper['localizer']
            adversary_wrapper = (optim_wrapper['adversary'] if 'adversary'
                                 in optim_wrapper.keys() else None)
        else:
            localizer_wrapper, adversary_wrapper = optim_wrapper, None
        if self.with_adversary and adversary_wrapper is None:
            raise KeyError('the adversary needs an optimizer: set '
                           'optim_wrapper.adversary in the config')
        counts = {
            getattr(w, '_accumulative_counts', 1)
            for w in (localizer_wrapper, adversary_wrapper) if w is not None
        }
        if len(counts) > 1:
            raise ValueError('optim_wrapper.localizer and .adversary need '
                             f'the same accumulative_counts, got {counts}')
        self._accumulation = counts.pop()
        data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        phase = self.phase
        log_vars = {}
        if phase != ADVERSARY_PHASE:
            with localizer_wrapper.optim_context(self.localizer):
                losses = self.loss(inputs, data_samples)
            loss, parsed = self.parse_losses(losses)
            localizer_wrapper.update_params(loss)
            parsed['loss_localizer'] = parsed.pop('loss')
            log_vars.update(parsed)
        if phase != LOCALIZER_PHASE:
            with adversary_wrapper.optim_context(self.adversary):
                losses = self.adversary_losses(inputs, data_samples)
            loss, parsed = self.parse_losses(losses)
            adversary_wrapper.update_params(loss)
            parsed['loss_adversary'] = parsed.pop('loss')
            log_vars.update(parsed)
        log_vars['phase'] = torch.tensor(float(phase))
        self.iteration += 1
        return log_vars

    # --------------------------------------------------------- inference
    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        return _unwrap(self.localizer).backbone(inputs)

    def attention_maps(self, inputs: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Logits (N, C) and normalised maps (N, C, H, W) of every class."""
        logits, cams = self.localizer(inputs)
        return logits, normalized_attention_maps(
            cams, inputs.shape[-2:], self.eraser_head.eps)

    def encode_decode(self, inputs: torch.Tensor,
                      batch_img_metas: Optional[List[dict]] = None,
                      labels: Optional[torch.Tensor] = None
                      ) -> torch.Tensor:
        """Segmentation scores (N, C + 1, H, W): ``bg_threshold``, then the
        maps of the present classes (``labels``, else predicted)."""
        logits, maps = self.attention_maps(inputs)
        if labels is None:
            labels = (logits.sigmoid() > self.cls_threshold).to(maps)
        maps = maps * labels[:, :, None, None]
        background = maps.new_full((maps.size(0), 1, *maps.shape[-2:]),
                                   self.bg_threshold)
        return torch.cat([background, maps], dim=1)

    def predict(self, inputs: torch.Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """CAM segmentation as ``SegDataSample``s (``seg_logits``: the
        scores of :meth:`encode_decode` at the original size;
        ``pred_sem_seg``: the labelling rule on their maps)."""
        labels = None
        if data_samples and all('gt_class_labels' in s for s in data_samples):
            labels = self.image_labels(data_samples).to(inputs)
        seg_logits = self.encode_decode(inputs, labels=labels)
        samples = self.postprocess_result(seg_logits, data_samples)
        for sample in samples:
            sample.pred_sem_seg.data = threshold_labels(
                sample.seg_logits.data[1:], self.bg_threshold)[None]
        return samples

    def _forward(self, inputs: torch.Tensor,
                 data_samples: OptSampleList = None
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``mode='tensor'``: logits (N, C) and normalised maps
        (N, C, H, W) of every class."""
        return self.attention_maps(inputs)
