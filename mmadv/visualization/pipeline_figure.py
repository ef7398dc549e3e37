"""A figure of the pipeline's results: for a few evaluation images, the
image, the baseline CAM, the method's map and its pseudo-label, the map
of each refinement the pipeline ran (AffinityNet's random walk, IRN) and
its pseudo-label, and the ground truth."""
import os.path as osp
from typing import Dict, Sequence

import matplotlib
import numpy as np

from ..datasets.label_io import colour_labels, read_label_png, read_rgb_image
from ..datasets.layout import split_file
from ..datasets.map_io import folder_classes, load_maps, map_path, read_meta
from ..pipeline import Row, threshold_labeler
from ..pseudo_labels.labeling import build_labeler
from ..refinements import REFINEMENTS
from ..utils.atomic import atomic_path
from ..utils.errors import InputError, MissingInputError

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def _max_map(maps: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``max_k A_k`` of ``(K, H, W)`` maps, zeros when K = 0."""
    return maps.max(0) if len(maps) else np.zeros(shape, np.float32)


def draw_pipeline_figure(rows: Dict[str, Row],
                         baseline: str,
                         method: str,
                         out: str,
                         num_images: int = 6,
                         source: str = 'metrics.json') -> str:
    """Draw the figure of the pipeline rows ``rows`` (its
    ``metrics.json``) into the PNG ``out``; ``out``.

    A map column shows the highest map of the image's classes (``max_k
    A_k``, 0 dark to 1 yellow); a pseudo-label column is the maps to its
    left labelled as the pipeline labelled them; labels are in VOC's
    colours.

    Args:
        rows (dict): The pipeline's rows (:func:`mmadv.apis.run_pipeline`,
            or its ``metrics.json`` read by :meth:`Row.from_dict`).
        baseline (str): Row of the baseline CAM.
        method (str): Row of the method; each of its refined rows
            (``<method> + random walk``, ``<method> + IRN``) adds two
            columns when present.
        out (str): The PNG to write.
        num_images (int): Rows: the first images of the evaluation split.
            Defaults to 6.
        source (str): Where ``rows`` came from, for error messages.
    """
    for name in (baseline, method):
        if name not in rows:
            raise InputError(f'{source} has no results of {name} (it has '
                             f'{sorted(rows)})')
    if rows[method].settings.get('eval_gt_dir') is None:
        raise InputError(f'{source}: {method} has no masks of its '
                         'evaluation split to draw (eval_gt_dir None)')
    data_root = rows[method].data_root
    split = rows[method].eval_split
    list_file = osp.join(data_root, split_file(split))
    if not osp.isfile(list_file):
        raise MissingInputError(f'image list {list_file} not found')
    with open(list_file) as f:
        names = [line.strip() for line in f if line.strip()][:num_images]
    # (title, row) of the map and pseudo-label columns
    columns = [(f'adversarial erasing\n({method})', rows[method])]
    for kind in REFINEMENTS.module_dict.values():
        refined = rows.get(method + kind.row)
        if refined:
            columns.append((f'{kind.row.strip(" +")}\n'
                            f'({kind.network or kind.key})', refined))
    titles = ['image', f'baseline CAM\n({baseline})']
    for title, row in columns:
        titles += [title,
                   f'pseudo-label\n(threshold {row.bg_threshold:.2f})']
    titles.append('ground truth')
    # each row's pseudo-labels, as the pipeline made them
    labelers = [
        build_labeler(
            threshold_labeler(row.bg_threshold, row.settings['uncertain'],
                              row.settings['crf'])) for _, row in columns
    ]
    # the colours of the data set the maps were made on
    _, palette = folder_classes(read_meta(rows[method].map_dirs[split]))
    fig, axes = plt.subplots(
        len(names), len(titles), figsize=(2 * len(titles), 2 * len(names)),
        squeeze=False)
    for ax_row, name in zip(axes, names):
        image = read_rgb_image(
            osp.join(rows[method].img_dir, name + rows[method].img_suffix))
        shape = image.shape[:2]
        _, baseline_maps = load_maps(
            map_path(rows[baseline].map_dirs[split], name))
        panels = [image, _max_map(baseline_maps, shape)]
        for (_, row), labeler in zip(columns, labelers):
            classes, maps = load_maps(map_path(row.map_dirs[split], name))
            label = labeler(classes, maps, image)
            panels += [_max_map(maps, shape), colour_labels(label, palette)]
        gt = read_label_png(
            osp.join(data_root, rows[method].settings['eval_gt_dir'],
                     f'{name}.png'))
        panels.append(colour_labels(gt, palette))
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
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100, format='png')
    plt.close(fig)
    return out
