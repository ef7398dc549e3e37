"""mmseg's test-time augmentation, keeping the merged probabilities."""
from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class SegProbTTAModel(SegTTAModel):
    """mmseg's :class:`SegTTAModel` (multi-scale and flip testing) whose
    merged prediction also keeps what it merged.

    mmseg's model averages the softmax of every augmented view (each
    resized back to the image and un-flipped by the segmentor's
    ``postprocess_result``), ``P = 1/V sum_v softmax(logits_v)``, and
    predicts ``argmax_c P``, but leaves the last view's logits in the
    merged sample. This one stores ``log P`` as its ``seg_logits``
    (``softmax(log P) = P``), so that a CRF
    (:class:`~.DenseCRFSegmentor`) or a prediction writer downstream
    reads the merged probabilities. The prediction is mmseg's.

    Only multi-class heads (``out_channels > 1``).
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merge each image's views (see the class docstring).

        Args:
            data_samples_list (list[list[SegDataSample]]): The ``V`` views
                of each image, each with ``seg_logits`` ``(C, H, W)`` at
                the image's size.

        Returns:
            list[SegDataSample]: One per image, with ``pred_sem_seg``
            ``(1, H, W)``, ``seg_logits`` ``log P`` ``(C, H, W)``, the
            first view's ``gt_sem_seg`` and ``img_path``.
        """
        if self.module.out_channels == 1:
            raise ValueError('SegProbTTAModel merges multi-class heads only')
        predictions = []
        for views in data_samples_list:
            probs = torch.stack([
                view.seg_logits.data.softmax(dim=0) for view in views
            ]).mean(dim=0)
            merged = views[0].clone()
            merged.set_data({
                'seg_logits': PixelData(data=probs.clamp_min(1e-12).log()),
                'pred_sem_seg': PixelData(data=probs.argmax(dim=0,
                                                            keepdim=True))
            })
            predictions.append(merged)
        return predictions
