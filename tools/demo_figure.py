"""A figure of the demo pipeline's results: for a few evaluation images,
the image, the baseline CAM, the adversarial erasing map and its
pseudo-label, the map refined by the random walk and its pseudo-label
(when the pipeline ran it) and the ground truth.

Usage::

    python tools/demo_figure.py work_dirs/demo [--images 6] \\
        [--out work_dirs/demo/demo_figure.png]

It reads what ``tools/run_pipeline.py`` wrote under the work dir:
``metrics.json`` (the data root, the configs, their map folders and
background thresholds). A map column shows the highest map of the image's
classes (``max_k A_k``, 0 black to 1 yellow); a pseudo-label column is the
maps to its left turned into labels as ``tools/make_pseudo_labels.py``
does in the pipeline (the threshold chosen on the training split, the
``uncertain`` band and ``crf``); labels are drawn in VOC's colours.
"""
import argparse
import json
import os.path as osp
from typing import Optional, Sequence

import matplotlib
from mmengine.logging import print_log

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmadv.pseudo_labels.map_io import load_maps, map_path  # noqa: E402
from mmadv.pseudo_labels.pseudo_labels import (  # noqa: E402
    make_pseudo_label, read_label_png, read_rgb_image, voc_palette)
from mmadv.utils.atomic import atomic_path  # noqa: E402


def colour_labels(label: np.ndarray) -> np.ndarray:
    """``(H, W)`` labels to ``(H, W, 3)`` uint8 VOC colours."""
    palette = np.asarray(voc_palette(), np.uint8).reshape(256, 3)
    return palette[label]


def max_map(maps: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``max_k A_k`` of ``(K, H, W)`` maps, zeros when K = 0."""
    return maps.max(0) if len(maps) else np.zeros(shape, np.float32)


def pseudo_label(row: dict, classes: np.ndarray, maps: np.ndarray,
                 image: np.ndarray) -> np.ndarray:
    """The maps' pseudo-label as the pipeline made it for ``row`` of
    ``metrics.json`` (its threshold, ``uncertain`` band and ``crf``)."""
    return make_pseudo_label(
        classes,
        maps,
        row['bg_threshold'],
        uncertain=row['uncertain'],
        crf=dict() if row['crf'] else None,
        image=image)


def make_figure(work_dir: str,
                baseline: str,
                method: str,
                num_images: int = 6,
                out: Optional[str] = None) -> str:
    """Draw the figure (see the module docstring); its path.

    Args:
        work_dir (str): The pipeline's work dir (holds ``metrics.json``).
        baseline (str): Config name of the baseline CAM.
        method (str): Config name of adversarial erasing.
        num_images (int): Rows: the first images of the evaluation split.
            Defaults to 6.
        out (str, optional): PNG to write. Defaults to
            ``<work_dir>/demo_figure.png``.
    """
    metrics_file = osp.join(work_dir, 'metrics.json')
    if not osp.isfile(metrics_file):
        raise FileNotFoundError(f'{metrics_file} not found: run '
                                'tools/run_pipeline.py first')
    with open(metrics_file) as f:
        metrics = json.load(f)
    for name in (baseline, method):
        if name not in metrics:
            raise ValueError(f'{metrics_file} has no results of {name} '
                             f'(it has {sorted(metrics)})')
        if 'map_dirs' not in metrics[name]:
            raise ValueError(f'{metrics_file} is from an older '
                             'tools/run_pipeline.py (no map_dirs): rerun it')
    data_root = metrics[method]['data_root']
    split = metrics[method]['eval_split']
    with open(osp.join(data_root, 'ImageSets', 'Segmentation',
                       f'{split}.txt')) as f:
        names = [line.strip() for line in f if line.strip()][:num_images]
    # (title, row of metrics.json) of the map and pseudo-label columns
    columns = [(f'adversarial erasing\n({method})', metrics[method])]
    walked = metrics.get(f'{method} + random walk')
    if walked:
        columns.append(('+ random walk\n(AffinityNet)', walked))
    titles = ['image', f'baseline CAM\n({baseline})']
    for title, row in columns:
        threshold = row['bg_threshold']
        titles += [title, f'pseudo-label\n(threshold {threshold:.2f})']
    titles.append('ground truth')
    fig, axes = plt.subplots(
        len(names), len(titles), figsize=(2 * len(titles), 2 * len(names)),
        squeeze=False)
    for ax_row, name in zip(axes, names):
        image = read_rgb_image(osp.join(data_root, 'JPEGImages',
                                        f'{name}.jpg'))
        shape = image.shape[:2]
        _, baseline_maps = load_maps(
            map_path(metrics[baseline]['map_dirs'][split], name))
        panels = [image, max_map(baseline_maps, shape)]
        for _, row in columns:
            classes, maps = load_maps(map_path(row['map_dirs'][split], name))
            panels += [
                max_map(maps, shape),
                colour_labels(pseudo_label(row, classes, maps, image))
            ]
        gt = read_label_png(
            osp.join(data_root, metrics[method]['eval_gt_dir'],
                     f'{name}.png'))
        panels.append(colour_labels(gt))
        for ax, panel in zip(ax_row, panels):
            if panel.ndim == 2:
                ax.imshow(panel, cmap='viridis', vmin=0, vmax=1,
                          interpolation='nearest')
            else:
                ax.imshow(panel, interpolation='nearest')
            ax.set_xticks([])
            ax.set_yticks([])
        ax_row[0].set_ylabel(name, fontsize=8)
    for ax, title in zip(axes[0], titles):
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out = out or osp.join(work_dir, 'demo_figure.png')
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100, format='png')
    plt.close(fig)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Figure of the demo pipeline: image, baseline map, '
        'adversarial erasing map and pseudo-label, the same after the random '
        'walk (when run), ground truth')
    parser.add_argument('work_dir', help='work dir of tools/run_pipeline.py')
    parser.add_argument('--baseline', default='cam_demo',
                        help='config name of the baseline')
    parser.add_argument('--method', default='adv_erase_demo',
                        help='config name of adversarial erasing')
    parser.add_argument('--images', type=int, default=6, help='rows')
    parser.add_argument('--out', help='PNG (default: '
                        '<work_dir>/demo_figure.png)')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    try:
        out = make_figure(args.work_dir, args.baseline, args.method,
                          args.images, args.out)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    print_log(f'figure written to {out}', logger='current')
    return out


if __name__ == '__main__':
    main()
