"""Per-image work, timed: map inference, pseudo-labels (threshold and
dense CRF), PSA's and IRN's random walks, and the dense walk they are
compared with."""
import resource
import time
from typing import Optional, Sequence

import numpy as np
import torch

from ..engine.model_loading import build_model
from ..models.utils import boundary_affinity, pair_indices
from ..pseudo_labels import (ThresholdLabeler, affinity_refine_maps,
                             boundary_refine_maps, embedding_stride,
                             multi_scale_maps)
from ..pseudo_labels.boundary_walk import IRN_WALK
from ..refinements import RandomWalkSettings
from ..structures import DEFAULT_BG_THRESHOLD
from .timing import build_for_training, load_config, peak_memory, sync


def infer_maps_benchmark(config: str,
                         height: int = 375,
                         width: int = 500,
                         scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                         flip: bool = True,
                         images: int = 10,
                         warmup: int = 1,
                         device: str = 'cpu',
                         cfg_options: Optional[dict] = None) -> dict:
    """Images/s (and peak GPU memory) of multi-scale + flip map inference
    (:func:`~mmadv.pseudo_labels.multi_scale_maps`) of 2 classes with the
    config's localizer (random weights) on random ``height x width``
    images."""
    device = torch.device(device)
    _, model, _ = build_for_training(config, max(height, width), device,
                                     cfg_options=cfg_options)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    batch = torch.randn(images + warmup, 3, height, width,
                        generator=gen).to(device)
    classes = torch.tensor([0, 1], device=device)
    result = dict(config=config)
    for i, image in enumerate(batch):
        if i == warmup:
            sync(device)
            context = peak_memory(device, result)
            context.__enter__()
            start = time.perf_counter()
        multi_scale_maps(model.localizer, image, classes, scales, flip)
    sync(device)
    seconds = (time.perf_counter() - start) / images
    context.__exit__(None, None, None)
    return dict(result, images_per_second=1 / seconds,
                setup=dict(device=str(device), height=height, width=width,
                           scales=list(scales), flip=flip, classes=2,
                           images=images, threads=torch.get_num_threads()))


def pseudo_labels_benchmark(height: int = 375,
                            width: int = 500,
                            images: int = 20,
                            bg_threshold: float = DEFAULT_BG_THRESHOLD
                            ) -> dict:
    """Images/s of the ``ThresholdLabeler`` on random smooth maps of 2
    classes and random images, thresholding alone and with the dense CRF,
    and their time ratio (one process; ``make_pseudo_labels.py --workers
    N`` runs N)."""
    rng = np.random.default_rng(0)
    h, w = height, width
    # smooth maps in [0, 1]: upsampled coarse noise, as CAMs look
    coarse = rng.random((images, 2, h // 8 + 1, w // 8 + 1))
    maps = torch.nn.functional.interpolate(
        torch.from_numpy(coarse).float(), size=(h, w), mode='bilinear',
        align_corners=False).numpy()
    pictures = rng.integers(0, 256, (images, h, w, 3), dtype=np.uint8)
    classes = np.array([0, 14])
    results = dict(setup=dict(height=h, width=w, classes=2, images=images,
                              processes=1))
    for name, crf in (('threshold', None), ('crf', dict())):
        labeler = ThresholdLabeler(bg_threshold, crf=crf)
        start = time.perf_counter()
        for image, image_maps in zip(pictures, maps):
            labeler(classes, image_maps, image)
        seconds = (time.perf_counter() - start) / images
        results[f'{name}_images_per_second'] = 1 / seconds
    results['ratio_crf_threshold_time'] = (
        results['threshold_images_per_second'] /
        results['crf_images_per_second'])
    return results


def random_walk_benchmark(config: str,
                          size: int = 448,
                          images: int = 5,
                          bg_alpha: float = RandomWalkSettings.default(
                              'bg_alpha'),
                          beta: float = RandomWalkSettings.default('beta'),
                          logt: int = RandomWalkSettings.default('logt'),
                          device: str = 'cpu',
                          cfg_options: Optional[dict] = None) -> dict:
    """Images/s of AffinityNet's random-walk refinement
    (:func:`~mmadv.pseudo_labels.affinity_refine_maps`: embedding, pair
    affinities, ``2^logt`` stencil steps) with an affinity config's model
    (random weights) on random ``size x size`` images and 2 classes."""
    device = torch.device(device)
    model = build_model(load_config(config, cfg_options)).to(device).eval()
    stride = embedding_stride(model)
    gen = torch.Generator().manual_seed(0)
    pictures = torch.randn(images + 1, 3, size, size, generator=gen)
    maps = torch.rand(images + 1, 2, size, size, generator=gen)
    classes = torch.tensor([0, 14])
    result = dict(config=config)
    for i, (image, image_maps) in enumerate(zip(pictures, maps)):
        if i == 1:  # the first image is the warm-up
            sync(device)
            context = peak_memory(device, result)
            context.__enter__()
            start = time.perf_counter()
        affinity_refine_maps(model, image.to(device), classes,
                             image_maps.to(device), bg_alpha, beta, logt,
                             stride)
    sync(device)
    seconds = (time.perf_counter() - start) / images
    context.__exit__(None, None, None)
    return dict(result, images_per_second=1 / seconds,
                setup=dict(device=str(device), size=size, classes=2,
                           stride=stride, bg_alpha=bg_alpha, beta=beta,
                           logt=logt, images=images,
                           threads=torch.get_num_threads()))


def dense_walk(scores: torch.Tensor,
               affinity: torch.Tensor,
               radius: int,
               beta: float,
               logt: int,
               rule: str = 'all') -> torch.Tensor:
    """:func:`~mmadv.pseudo_labels.stencil_random_walk` the way PSA's
    ``infer_aff.py`` (and this package before the stencil) runs it, the
    baseline of the benchmarks: the dense (hw, hw) matrix ``A`` of the
    pairs, their transposes and the identity, ``T = A^beta`` normalised
    by columns, then ``t = 2^logt`` products ``vec(s) T`` (``t C n^2``
    multiply-adds; PSA squares ``T`` ``logt`` times instead, which costs
    ``logt n^3``). Two (hw, hw) matrices, ``8 (hw)^2`` bytes in float32,
    are alive at its peak."""
    channels, height, width = scores.shape
    src, dst = pair_indices(height, width, radius, affinity.device, rule)
    matrix = torch.eye(height * width, dtype=affinity.dtype,
                       device=affinity.device)
    matrix[src, dst] = matrix[dst, src] = affinity
    trans = matrix.pow(beta)
    trans.div_(trans.sum(dim=0, keepdim=True))
    walked = scores.reshape(channels, -1).to(trans.dtype)
    for _ in range(2**logt):
        walked = walked @ trans
    return walked.reshape(scores.shape)


def irn_walk_benchmark(size: int = 512,
                       images: int = 3,
                       radius: int = IRN_WALK['radius'],
                       beta: float = IRN_WALK['beta'],
                       logt: int = IRN_WALK['logt'],
                       dense: bool = False,
                       device: str = 'cpu') -> dict:
    """IRN's walk (its radius 5, beta 10, 2^8 steps) of 2 maps of a size x
    size image on a stride-4 boundary map: the stencil walk, and with
    ``dense`` the dense (hw, hw) matrix and 2^logt dense products."""
    device = torch.device(device)
    grid = (size - 1) // 4 + 1  # IRN's stride-4 size
    gen = torch.Generator().manual_seed(0)
    boundary = torch.rand(images + 1, grid, grid, generator=gen) * 0.5
    maps = torch.rand(images + 1, 2, size, size, generator=gen)
    nodes = grid * grid
    num_pairs = pair_indices(grid, grid, radius, rule='all')[0].numel()
    result = dict(setup=dict(device=str(device), size=size, grid=grid,
                             radius=radius, beta=beta, logt=logt,
                             classes=2, images=images,
                             threads=torch.get_num_threads()),
                  # the stencil's weights and column sums
                  stencil_mib=(num_pairs + nodes) * 4 / 2**20,
                  dense_matrix_mib=nodes * nodes * 4 / 2**20)
    for route in ('stencil', 'dense') if dense else ('stencil', ):
        for i in range(images + 1):
            if i == 1:  # the first image is the warm-up
                sync(device)
                context = peak_memory(device, result, f'{route}_peak_mib')
                context.__enter__()
                start = time.perf_counter()
            b, m = boundary[i].to(device), maps[i].to(device)
            if route == 'stencil':
                boundary_refine_maps(m, b, 4, radius, beta, logt)
            else:  # the dense matrix of the same pairs
                pairs = boundary_affinity(b[None], radius, 'all')[0]
                small = torch.nn.functional.interpolate(
                    m[None], size=(grid, grid), mode='bilinear')[0]
                dense_walk(small * (1 - b), pairs, radius, beta, logt)
        sync(device)
        context.__exit__(None, None, None)
        result[f'{route}_images_per_second'] = images / (
            time.perf_counter() - start)
    if dense:
        result['ratio_stencil_dense_speed'] = (
            result['stencil_images_per_second'] /
            result['dense_images_per_second'])
    result['max_rss_mib'] = resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024
    return result
