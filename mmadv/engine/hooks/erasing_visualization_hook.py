"""Pictures of what the eraser head does during training."""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def to_uint8_rgb(images: torch.Tensor, mean: torch.Tensor,
                 std: torch.Tensor) -> np.ndarray:
    """(K, 3, H, W) normalised RGB tensors -> (K, H, W, 3) uint8."""
    images = images.float() * std.view(1, 3, 1, 1) + mean.view(1, 3, 1, 1)
    images = images.clamp(0, 255).round().byte().permute(0, 2, 3, 1)
    return images.cpu().numpy()


def heatmap_overlay(images: np.ndarray, maps: np.ndarray,
                    alpha: float = 0.5) -> np.ndarray:
    """Blend a JET colour map of ``maps`` (K, H, W) in [0, 1] over
    ``images`` (K, H, W, 3) uint8 RGB."""
    heat = [
        cv2.applyColorMap(np.uint8(m * 255), cv2.COLORMAP_JET)[..., ::-1]
        for m in maps
    ]
    return np.uint8((1 - alpha) * images + alpha * np.stack(heat))


def erasing_grid(images: np.ndarray,
                 maps: np.ndarray,
                 masks: np.ndarray,
                 erased: np.ndarray,
                 captions: Optional[Sequence[str]] = None,
                 gap: int = 2) -> np.ndarray:
    """One row per pair: image | attention overlay | mask | erased image.

    Args:
        images, erased (ndarray): (K, H, W, 3) uint8 RGB.
        maps, masks (ndarray): (K, H, W) in [0, 1].
        captions (list[str], optional): written on each row's image.

    Returns:
        ndarray: (K * (H + gap) - gap, 4 * (W + gap) - gap, 3) uint8.
    """
    k, h, w, _ = images.shape
    mask_rgb = np.repeat(np.uint8(masks[..., None] * 255), 3, axis=-1)
    columns = [images.copy(), heatmap_overlay(images, maps), mask_rgb, erased]
    grid = np.full((k * (h + gap) - gap, 4 * (w + gap) - gap, 3), 255,
                   np.uint8)
    for row in range(k):
        for col, tiles in enumerate(columns):
            y, x = row * (h + gap), col * (w + gap)
            grid[y:y + h, x:x + w] = tiles[row]
        if captions:
            cv2.putText(grid, captions[row], (3, row * (h + gap) + 12),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                        cv2.LINE_AA)
    return grid


@HOOKS.register_module()
class ErasingVisualizationHook(Hook):
    """Every ``interval`` training iterations, draw image / attention
    overlay / soft mask / erased image for the first ``max_pairs``
    (image, class) pairs of the batch, and hand the grid to the runner's
    visualizer (``vis_data/vis_image/erasing_<iter>.png`` with
    ``LocalVisBackend``; TensorBoard with ``TensorboardVisBackend``).

    Works with any model that has ``data_preprocessor``, ``image_labels``,
    ``erase`` and ``localizer`` (``AdversarialErasingClassifier``).

    Args:
        interval (int): iterations between pictures. Default: 500.
        max_pairs (int): rows per picture. Default: 4.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 500, max_pairs: int = 4):
        self.interval = interval
        self.max_pairs = max_pairs

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        localizer = model.localizer.module if is_model_wrapper(
            model.localizer) else model.localizer
        was_training = model.training
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(data_batch, True)
            labels = model.image_labels(data['data_samples'])
            _, erasing = model.erase(data['inputs'], labels, localizer)
        model.train(was_training)
        keep = slice(0, self.max_pairs)
        preprocessor = model.data_preprocessor
        images = to_uint8_rgb(data['inputs'][erasing.pair_images[keep]],
                              preprocessor.mean, preprocessor.std)
        erased = to_uint8_rgb(erasing.erased_images[keep], preprocessor.mean,
                              preprocessor.std)
        classes = (runner.visualizer.dataset_meta or {}).get('classes')
        captions = None
        if classes:
            captions = [
                classes[int(c) + 1] for c in erasing.pair_classes[keep]
            ]
        grid = erasing_grid(images, erasing.maps[keep].cpu().numpy(),
                            erasing.masks[keep, 0].cpu().numpy(), erased,
                            captions)
        runner.visualizer.add_image('erasing', grid, step=runner.iter + 1)
