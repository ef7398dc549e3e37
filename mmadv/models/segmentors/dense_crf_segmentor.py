"""DeepLab's dense CRF post-processing of a segmentation network's
probabilities (Chen et al., DeepLab v2, TPAMI 2018,
https://arxiv.org/abs/1606.00915), as the WSSS papers apply it to their
final segmentation, through pydensecrf2."""
from dataclasses import dataclass

import numpy as np
import pydensecrf.densecrf as dcrf
import torch
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from pydensecrf.utils import unary_from_softmax

from ...datasets.label_io import read_rgb_image
from ...utils.domain import Domain
from ...utils.errors import InputError

ITERATIONS = Domain(0, 100, integer=True)
WEIGHT = Domain(0, 1000)
DEVIATION = Domain(0, 1000, low_open=True)


@dataclass(frozen=True)
class DeepLabCRF:
    """A fully connected CRF (Kraehenbuehl and Koltun, NeurIPS 2011) over
    class probabilities, with the kernels and VOC values of
    deeplab-pytorch (``libs/utils/crf.py``, ``configs/voc12.yaml``,
    https://github.com/kazuto1011/deeplab-pytorch), the DeepLab v2
    re-implementation whose post-processing the WSSS papers use.

    The unary is ``-log(probs)`` (pydensecrf's ``unary_from_softmax``),
    and two Potts terms:

    - smoothness, a Gaussian kernel over positions: ``sxy = pos_xy_std``,
      ``compat = pos_w``;
    - appearance, a bilateral kernel over positions and colours:
      ``sxy = bi_xy_std``, ``srgb = bi_rgb_std``, ``compat = bi_w``;

    then ``iter_max`` steps of mean-field inference.

    Args:
        iter_max (int): Mean-field iterations. Defaults to 10.
        pos_w (float): Smoothness weight. Defaults to 3.
        pos_xy_std (float): Smoothness deviation (pixels). Defaults to 1.
        bi_w (float): Appearance weight. Defaults to 4.
        bi_xy_std (float): Appearance spatial deviation (pixels).
            Defaults to 67.
        bi_rgb_std (float): Appearance colour deviation. Defaults to 3.
    """

    iter_max: int = 10
    pos_w: float = 3
    pos_xy_std: float = 1
    bi_w: float = 4
    bi_xy_std: float = 67
    bi_rgb_std: float = 3

    def __post_init__(self) -> None:
        ITERATIONS.check(self.iter_max, 'crf.iter_max')
        for name in ('pos_w', 'bi_w'):
            WEIGHT.check(getattr(self, name), f'crf.{name}')
        for name in ('pos_xy_std', 'bi_xy_std', 'bi_rgb_std'):
            DEVIATION.check(getattr(self, name), f'crf.{name}')

    def __call__(self, image: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Refine ``probs`` on ``image``.

        Args:
            image (np.ndarray): ``(H, W, 3)`` uint8 image (the colour
                kernel is the same for RGB and BGR).
            probs (np.ndarray): ``(C, H, W)`` class probabilities.

        Returns:
            np.ndarray: ``(C, H, W)`` float32 refined probabilities.
        """
        c, h, w = probs.shape
        if image.shape[:2] != (h, w):
            raise ValueError(f'probs {probs.shape} are not of the image '
                             f'size {image.shape[:2]}')
        crf = dcrf.DenseCRF2D(w, h, c)
        crf.setUnaryEnergy(np.ascontiguousarray(
            unary_from_softmax(np.asarray(probs, np.float32))))
        crf.addPairwiseGaussian(sxy=self.pos_xy_std, compat=self.pos_w)
        crf.addPairwiseBilateral(sxy=self.bi_xy_std, srgb=self.bi_rgb_std,
                                 rgbim=np.ascontiguousarray(image),
                                 compat=self.bi_w)
        return np.array(crf.inference(self.iter_max),
                        dtype=np.float32).reshape(c, h, w)


@MODELS.register_module()
class DenseCRFSegmentor(BaseModel):
    """A segmentor (or an mmseg TTA model) whose predictions are refined by
    :class:`DeepLabCRF` on their images.

    Each prediction's probabilities ``P = softmax(seg_logits)`` (``(C, H,
    W)``, at the image's size: the segmentor's ``postprocess_result`` or
    :class:`~.SegProbTTAModel` put them there) are refined on the image
    read from its ``img_path``: ``Q = CRF(image, P)``; the prediction
    becomes ``argmax_c Q`` and its ``seg_logits`` ``log Q``. Its weights
    are ``module``'s.

    Args:
        module (dict | nn.Module): The segmentor or TTA model (or its
            config).
        crf (dict, optional): :class:`DeepLabCRF` fields; None for
            deeplab-pytorch's VOC values.
        data_preprocessor (dict, optional): Unused (the module
            preprocesses); mmengine's Runner passes the config's.
    """

    def __init__(self, module, crf: dict = None,
                 data_preprocessor: dict = None) -> None:
        super().__init__()
        self.module = MODELS.build(module) if isinstance(module,
                                                         dict) else module
        self.crf = DeepLabCRF(**(crf or {}))

    def forward(self, *args, **kwargs):
        raise NotImplementedError('DenseCRFSegmentor only tests: call '
                                  'test_step')

    def test_step(self, data) -> SampleList:
        """The module's predictions of ``data``, refined."""
        return [self.refine(sample) for sample in self.module.test_step(data)]

    val_step = test_step

    def refine(self, sample):
        """One prediction refined (see the class docstring)."""
        logits = sample.seg_logits.data
        probs = logits.float().softmax(dim=0).cpu().numpy()
        image = read_rgb_image(sample.img_path)
        if image.shape[:2] != probs.shape[1:]:
            raise InputError(f'{sample.img_path}: the prediction is '
                             f'{probs.shape[1:]}, the image '
                             f'{image.shape[:2]}')
        refined = torch.from_numpy(self.crf(image, probs)).to(logits.device)
        sample.set_data({
            'seg_logits': PixelData(data=refined.clamp_min(1e-12).log()),
            'pred_sem_seg': PixelData(data=refined.argmax(dim=0,
                                                          keepdim=True))
        })
        return sample
