"""A test-loop "metric" that writes the predictions it is given."""
import os
import os.path as osp
from typing import Sequence

from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from ..datasets.prediction_io import prediction_path, save_prediction


@METRICS.register_module()
class PredictionWriter(BaseMetric):
    """Write each prediction's probabilities ``softmax(seg_logits)`` to
    ``<out_dir>/<image name>.npz`` (:mod:`~mmadv.datasets.prediction_io`),
    in every process of a distributed test.

    Args:
        out_dir (str): The prediction folder.
    """

    def __init__(self, out_dir: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            name = osp.splitext(osp.basename(sample['img_path']))[0]
            probs = sample['seg_logits']['data'].float().softmax(dim=0)
            save_prediction(prediction_path(self.out_dir, name),
                            probs.cpu().numpy())
            self.results.append(name)

    def compute_metrics(self, results: list) -> dict:
        """``written``: the number of predictions written."""
        return dict(written=len(results))
