"""Attention maps, soft erase masks and erased images for adversarial
erasing (Stammes et al., arXiv 2011.04626, Sec. 3)."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


def normalized_attention_maps(cams: torch.Tensor,
                              size,
                              eps: float = 1e-5) -> torch.Tensor:
    """Attention maps from raw class activation maps.

    ``A = minmax(upsample(ReLU(cams)))``: ReLU at the backbone's output
    stride, bilinear upsampling to ``size`` (align_corners=False), then per
    map ``(A - min A) / (max A - min A + eps)``, in [0, 1) ([0, 1] with
    ``eps=0``); a constant map
    is 0 (with ``eps=0`` too: EADER's ``compute_gradcam`` divides by
    ``max A - min A`` where it is not 0, by 1 where it is).

    For a GAP + linear classifier this equals Grad-CAM of the last feature
    layer after normalisation: the Grad-CAM weights are d y_c / dF =
    w_c / (h w), so Grad-CAM = ReLU(w_c . F) / (h w), a positive multiple of
    the CAM that min-max normalisation removes.

    Args:
        cams (Tensor): (..., h, w) raw maps ``w_c . F``.
        size (tuple[int, int]): output (H, W).
        eps (float): added to the span. 0 is EADER's normalisation; it
            divides a map that is constant up to rounding (a 1x1 map, which
            bilinear upsampling spreads with a span of ~1e-7) by that
            rounding, and its gradient by as much. EADER's 448 crops give
            14 x 14 maps at stride 32.

    Returns:
        Tensor: (..., H, W) normalised maps.
    """
    lead = cams.shape[:-2]
    maps = F.interpolate(
        F.relu(cams.reshape(-1, 1, *cams.shape[-2:])),
        size=tuple(size),
        mode='bilinear',
        align_corners=False).flatten(1)
    low = maps.min(dim=1, keepdim=True).values
    high = maps.max(dim=1, keepdim=True).values
    span = high - low + eps
    maps = (maps - low) / torch.where(span > 0, span, torch.ones_like(span))
    return maps.reshape(*lead, *size)


@dataclass
class ErasingResult:
    """What :class:`EraserHead` returns, one row per (image, present class)
    pair, K pairs in all.

    Attributes:
        pair_images (Tensor): (K,) index of the source image.
        pair_classes (Tensor): (K,) index of the erased class.
        maps (Tensor): (K, H, W) normalised attention maps A.
        masks (Tensor): (K, 1, H, W) soft masks M = sigmoid(omega (A - sigma)).
        erased_images (Tensor): (K, 3, H, W) I* = I (1 - M).
    """
    pair_images: torch.Tensor
    pair_classes: torch.Tensor
    maps: torch.Tensor
    masks: torch.Tensor
    erased_images: torch.Tensor


@MODELS.register_module()
class EraserHead(nn.Module):
    """Erase each present class from its image with a soft mask.

    For every pair (n, c) with ``labels[n, c] = 1``, batched with index
    tensors (no loop over images or classes)::

        A_k  = normalized_attention_maps(cams[n, c], (H, W))
        M_k  = sigmoid(omega * (A_k - sigma))
        I*_k = I_n * (1 - M_k)

    on the normalised image tensor, so erased pixels become the dataset
    mean colour (0 after normalisation).

    Under autocast (``--amp``) all of it runs in float32: in half precision
    the min-max normalisation loses the maps' small values, and the
    gradient of the area loss through the maps (``beta / (K H W)`` per
    pixel, about 1e-11 on VOC, times the loss scale) is below what float16
    holds. The maps, masks and erased images are float32 tensors.

    Args:
        omega (float): mask sharpness. Default: 100 (paper).
        sigma (float): mask threshold on A. Default: 0.5 (paper).
        eps (float): min-max normalisation epsilon. Default: 1e-5 (EADER's
            ``attention_map_wrapper.py``: 0, see
            :func:`normalized_attention_maps`).
    """

    def __init__(self, omega: float = 100., sigma: float = 0.5,
                 eps: float = 1e-5):
        super().__init__()
        self.omega = omega
        self.sigma = sigma
        self.eps = eps

    def forward(self, images: torch.Tensor, cams: torch.Tensor,
                labels: torch.Tensor) -> ErasingResult:
        """
        Args:
            images (Tensor): (N, 3, H, W) normalised images.
            cams (Tensor): (N, C, h, w) raw class activation maps.
            labels (Tensor): (N, C) multi-hot image labels.
        """
        pair_images, pair_classes = labels.nonzero(as_tuple=True)
        with torch.autocast(images.device.type, enabled=False):
            maps = normalized_attention_maps(
                cams[pair_images, pair_classes].float(), images.shape[-2:],
                self.eps)
            masks = torch.sigmoid(self.omega *
                                  (maps - self.sigma)).unsqueeze(1)
            erased = images[pair_images].float() * (1 - masks)
        return ErasingResult(pair_images, pair_classes, maps, masks, erased)
