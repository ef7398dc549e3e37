"""The pipeline's rows: one per config and per refinement of its maps,
typed, and the summary table of them."""
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, Optional

from prettytable import PrettyTable


@dataclass
class Row:
    """The results of a row ``<config>`` or ``<config><refinement row>``.

    Scores are fractions, None where the masks to score with are not
    there (image labels only, or no training masks).

    Attributes:
        name (str): The row, e.g. ``adv_erase_demo + random walk``.
        config (str): The stage-1 config.
        refinement (str, optional): The refinement's key, None for the
            thresholded maps of stage 1.
        work_dir (str): The config's work directory.
        data_root (str): The data root.
        img_dir (str): The images.
        img_suffix (str): Their suffix.
        train_split (str): The split of the pseudo-labels.
        eval_split (str): The split scored.
        seed (int, optional): ``randomness.seed`` of every training.
        settings (dict): The pipeline settings
            (:meth:`~mmadv.pipeline.PipelineSettings.to_dict`).
        stage1_checkpoint (str): The stage-1 classifier.
        model_checkpoint (str, optional): The refinement's model.
        map_dirs (dict): The map folder of each split.
        map_miou (dict): The maps' mIoU of each split at the threshold.
        bg_threshold (float): The background threshold.
        threshold_rule (str): What chose it.
        pseudo_labels (str): The pseudo-label folder.
        pseudo_label_miou (float, optional): Their mIoU on the training
            split.
        seg_checkpoint (str): The segmentation network.
        seg_miou (float, optional): Its mIoU on the evaluation split.
        step_seconds (dict): The seconds of each of its steps.
        versions (dict): The versions of the libraries that made it
            (:func:`~mmadv.utils.provenance.library_versions`).
    """

    name: str
    config: str
    refinement: Optional[str]
    work_dir: str
    data_root: str
    img_dir: str
    img_suffix: str
    train_split: str
    eval_split: str
    seed: Optional[int]
    settings: dict
    stage1_checkpoint: str
    model_checkpoint: Optional[str]
    map_dirs: Dict[str, str]
    map_miou: Dict[str, Optional[float]]
    bg_threshold: float
    threshold_rule: str
    pseudo_labels: str
    pseudo_label_miou: Optional[float]
    seg_checkpoint: str
    seg_miou: Optional[float]
    step_seconds: Dict[str, float]
    versions: Dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """The seconds of its steps."""
        return sum(self.step_seconds.values())

    def to_dict(self) -> dict:
        """As ``metrics.json`` holds it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> 'Row':
        """From ``metrics.json``'s entry (one written before ``versions``
        has none)."""
        return cls(**{f.name: values[f.name] for f in fields(cls)
                      if f.name in values})


def summary_table(rows: Dict[str, Row]) -> str:
    """One line per row: mIoU (%) of the maps on both splits, the
    threshold and what chose it, the pseudo-labels and the segmentation,
    and the seconds of its steps; ``-`` where nothing was scored, and a
    line under the table with the libraries' versions and one for each
    config without evaluation masks. The mIoUs are means over the classes
    that occur in the masks or the labelling (``np.nanmean``, as mmseg's
    ``IoUMetric``), label 255 ignored."""
    table = PrettyTable()
    table.field_names = [
        'config', 'maps mIoU (train)', 'maps mIoU (eval)', 'bg threshold',
        'threshold by', 'pseudo-labels mIoU', 'segmentation mIoU (eval)',
        'seconds'
    ]

    def fmt(value):
        return '-' if value is None else f'{value * 100:.2f}'

    for name, row in rows.items():
        table.add_row([
            name,
            fmt(row.map_miou.get(row.train_split)),
            fmt(row.map_miou.get(row.eval_split)),
            f'{row.bg_threshold:.2f}', row.threshold_rule,
            fmt(row.pseudo_label_miou),
            fmt(row.seg_miou), f'{row.seconds:.0f}'
        ])
    notes = [
        f'versions: {", ".join(f"{k} {v}" for k, v in versions.items())}'
        for versions in {json.dumps(row.versions): row.versions
                         for row in rows.values() if row.versions}.values()
    ] + [
        f'{name}: no masks of {row.eval_split} (eval_gt_dir None): image '
        'labels only, nothing is scored'
        for name, row in rows.items() if row.settings.get('eval_gt_dir')
        is None and row.refinement is None
    ]
    return '\n'.join([table.get_string(), *notes])
