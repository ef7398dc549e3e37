from .dense_crf_segmentor import DeepLabCRF, DenseCRFSegmentor
from .prob_tta_model import SegProbTTAModel

__all__ = ['DeepLabCRF', 'DenseCRFSegmentor', 'SegProbTTAModel']
