"""deeplab-pytorch's dense CRF (Kazuto Nakashima,
https://github.com/kazuto1011/deeplab-pytorch, HEAD 4219467), transcribed
to pin mmadv's segmentation post-processing against it.

``VOC12_CRF`` is its ``configs/voc12.yaml`` ``CRF`` section; ``DenseCRF``
its ``libs/utils/crf.py`` (which ``main.py crf`` calls with the softmax of
the logits, resized to the image).
"""
import numpy as np
import pydensecrf.densecrf as dcrf
import pydensecrf.utils as utils

# configs/voc12.yaml, lines 52-58
VOC12_CRF = dict(ITER_MAX=10, POS_W=3, POS_XY_STD=1, BI_W=4, BI_XY_STD=67,
                 BI_RGB_STD=3)


class DenseCRF(object):
    """libs/utils/crf.py, as it is."""

    def __init__(self, iter_max, pos_w, pos_xy_std, bi_w, bi_xy_std,
                 bi_rgb_std):
        self.iter_max = iter_max
        self.pos_w = pos_w
        self.pos_xy_std = pos_xy_std
        self.bi_w = bi_w
        self.bi_xy_std = bi_xy_std
        self.bi_rgb_std = bi_rgb_std

    def __call__(self, image, probmap):
        C, H, W = probmap.shape

        U = utils.unary_from_softmax(probmap)
        U = np.ascontiguousarray(U)

        image = np.ascontiguousarray(image)

        d = dcrf.DenseCRF2D(W, H, C)
        d.setUnaryEnergy(U)
        d.addPairwiseGaussian(sxy=self.pos_xy_std, compat=self.pos_w)
        d.addPairwiseBilateral(
            sxy=self.bi_xy_std, srgb=self.bi_rgb_std, rgbim=image,
            compat=self.bi_w
        )

        Q = d.inference(self.iter_max)
        Q = np.array(Q).reshape((C, H, W))

        return Q
