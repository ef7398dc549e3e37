"""Pack an image with its image-level labels for a weakly-supervised model."""
from mmcv.transforms import to_tensor
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackWeakSegInputs(PackSegInputs):
    """Pack as :class:`mmseg.datasets.transforms.PackSegInputs`, plus the
    image-level labels.

    Required Keys:

    - img_labels: multi-hot vector of shape ``(C,)``, the foreground
      classes of the image (see
      :class:`mmadv.datasets.voc_image_labels.VOCImageLabelDataset`).

    Added Keys:

    - data_samples.gt_class_labels: float32 tensor of shape ``(C,)``, so
      that a model stacks a batch into ``(N, C)`` with
      ``torch.stack([s.gt_class_labels for s in data_samples])``.

    ``gt_sem_seg`` is packed too when ``gt_seg_map`` was loaded (for
    evaluation).

    Args:
        meta_keys (Sequence[str]): Meta keys packed into the data sample.
            Defaults to those of ``PackSegInputs``.
    """

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): Result dict from the data pipeline.

        Returns:
            dict: ``inputs`` (uint8 tensor ``(3, H, W)``) and
            ``data_samples`` (:obj:`SegDataSample` with
            ``gt_class_labels``).
        """
        if 'img_labels' not in results:
            raise KeyError(
                f"{self.__class__.__name__} needs results['img_labels'], "
                'the multi-hot image labels set by the dataset; got keys '
                f'{sorted(results)}')
        labels = to_tensor(results['img_labels']).float()
        if labels.dim() != 1:
            raise ValueError('img_labels must have shape (C,), got '
                             f'{tuple(labels.shape)}')
        packed_results = super().transform(results)
        packed_results['data_samples'].set_data(dict(gt_class_labels=labels))
        return packed_results
