"""The pipeline's rows: one per config and per refinement of its maps,
one per self-training round of each, and the full-supervision row; typed,
and the summary table of them."""
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List, Optional

from prettytable import PrettyTable

from ..engine.seg_protocols import SEG_PROTOCOLS

# what a row's labels are
MAPS, SELF_TRAINING, FULL = 'maps', 'self-training', 'full supervision'


@dataclass
class Row:
    """The results of a row ``<config>`` or ``<config><refinement row>``
    (the labels of maps), ``<row> + self-training`` (the labels of the
    row's segmentation network) or ``<config> full supervision`` (the
    training masks).

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
        stage1_checkpoint (str, optional): The stage-1 classifier (None
            for full supervision).
        model_checkpoint (str, optional): The refinement's model.
        map_dirs (dict): The map folder of each split (none for
            self-training and full supervision).
        map_miou (dict): The maps' mIoU of each split at the threshold.
        bg_threshold (float, optional): The background threshold.
        threshold_rule (str): What chose it (or what made the labels).
        pseudo_labels (str): The pseudo-label folder (the masks for full
            supervision).
        pseudo_label_miou (float, optional): Their mIoU on the training
            split.
        seg_checkpoint (str): The segmentation network.
        step_seconds (dict): The seconds of each of its steps.
        versions (dict): The versions of the libraries that made it
            (:func:`~mmadv.utils.provenance.library_versions`).
        labels_from (str): ``maps``, ``self-training`` or ``full
            supervision``.
        seg_scores (dict): The segmentation's mIoU under each test
            protocol (:data:`~mmadv.engine.seg_protocols.SEG_PROTOCOLS`).
        protocol (dict): How every number of the row was made: the splits
            and their image counts, the maps' scales and flip, the
            threshold rule, the pseudo-labels' CRF, each segmentation
            protocol, the ignore label.
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
    stage1_checkpoint: Optional[str]
    model_checkpoint: Optional[str]
    map_dirs: Dict[str, str]
    map_miou: Dict[str, Optional[float]]
    bg_threshold: Optional[float]
    threshold_rule: str
    pseudo_labels: str
    pseudo_label_miou: Optional[float]
    seg_checkpoint: str
    step_seconds: Dict[str, float]
    versions: Dict[str, str] = field(default_factory=dict)
    labels_from: str = MAPS
    seg_scores: Dict[str, Optional[float]] = field(default_factory=dict)
    protocol: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """The seconds of its steps."""
        return sum(self.step_seconds.values())

    @property
    def seg_miou(self) -> Optional[float]:
        """The segmentation's single-scale mIoU on the evaluation split
        (None when it was not tested so)."""
        return self.seg_scores.get('single-scale')

    def to_dict(self) -> dict:
        """As ``metrics.json`` holds it, with ``seg_miou``."""
        return dict(asdict(self), seg_miou=self.seg_miou)

    @classmethod
    def from_dict(cls, values: dict) -> 'Row':
        """From ``metrics.json``'s entry (one written before ``versions``,
        ``seg_scores`` and ``protocol`` has none: its one score,
        ``seg_miou``, is single-scale)."""
        if 'seg_scores' not in values:
            values = dict(values, seg_scores={'single-scale':
                                              values['seg_miou']})
        return cls(**{f.name: values[f.name] for f in fields(cls)
                      if f.name in values})


def _protocol_line(names: List[str], protocol: dict) -> str:
    """The protocol (:attr:`Row.protocol`) of the rows ``names`` in one
    line."""
    rows = ', '.join(names)
    if not protocol:
        return (f'protocol of {rows}: not recorded (written before mmadv '
                'recorded it)')
    rule = dict(protocol['threshold_rule'])
    splits = (f'{protocol["train_split"]} ({protocol["train_images"]} '
              f'images) and {protocol["eval_split"]} '
              f'({protocol["eval_images"]} images)')
    if protocol.get('full_supervision'):
        labels = f'trained on the masks of {protocol["train_split"]}'
    else:
        labels = (
            f'maps at scales {tuple(protocol["map_scales"])}'
            f'{" + flip" if protocol["map_flip"] else ""}; threshold by '
            f'{rule.pop("type")}{rule or ""}; pseudo-label CRF '
            f'{"on" if protocol["pseudo_label_crf"] else "off"}')
    self_training = protocol.get('self_training')
    if self_training:
        labels += (f'; self-training round {self_training["round"]}: argmax '
                   f'of {self_training["protocol"]} predictions, uncertain '
                   f'{self_training["uncertain"]} ignored')
    tests = '; '.join(f'{SEG_PROTOCOLS[key].title} = {text}'
                      for key, text in protocol['seg'].items()) or 'none'
    return (f'protocol of {rows}: {splits}; {labels}; segmentation tests: '
            f'{tests}; label {protocol["ignore_index"]} ignored')


def summary_table(rows: Dict[str, Row]) -> str:
    """One line per row: mIoU (%) of the maps on both splits, the
    threshold and what chose it, the pseudo-labels, the segmentation under
    each test protocol any row was tested under (with, beside it, the
    percentage of the full-supervision row's score under the same
    protocol, where the config has one), and the seconds of its steps;
    ``-`` where nothing was scored. Under the table: a line with each
    set of libraries' versions, one for each protocol with its rows, and
    one for each config without evaluation masks. The mIoUs are means over
    the classes that occur in the masks or the labelling (``np.nanmean``,
    as mmseg's ``IoUMetric``), label 255 ignored."""
    # the protocols any row was tested (or was to be tested) under
    protocols = [key for key in SEG_PROTOCOLS if any(
        key in row.seg_scores
        or key in row.settings.get('seg_protocols', ['single-scale'])
        for row in rows.values())]
    table = PrettyTable()
    table.field_names = [
        'config', 'maps mIoU (train)', 'maps mIoU (eval)', 'bg threshold',
        'threshold by', 'pseudo-labels mIoU',
        *(f'seg {SEG_PROTOCOLS[key].title}' for key in protocols),
        'seconds'
    ]
    full = {row.work_dir: row for row in rows.values()
            if row.labels_from == FULL}

    def fmt(value):
        return '-' if value is None else f'{value * 100:.2f}'

    def seg_cell(row, key):
        score = row.seg_scores.get(key)
        ceiling = full.get(row.work_dir)
        ceiling = ceiling.seg_scores.get(key) if ceiling else None
        if score is None or not ceiling or row.labels_from == FULL:
            return fmt(score)
        return f'{fmt(score)} ({score / ceiling * 100:.0f}%)'

    for name, row in rows.items():
        table.add_row([
            name,
            fmt(row.map_miou.get(row.train_split)),
            fmt(row.map_miou.get(row.eval_split)),
            '-' if row.bg_threshold is None else f'{row.bg_threshold:.2f}',
            row.threshold_rule,
            fmt(row.pseudo_label_miou),
            *(seg_cell(row, key) for key in protocols),
            f'{row.seconds:.0f}'
        ])

    by_protocol = {}
    for name, row in rows.items():
        by_protocol.setdefault(json.dumps(row.protocol, sort_keys=True),
                               (row.protocol, []))[1].append(name)
    notes = [
        f'versions: {", ".join(f"{k} {v}" for k, v in versions.items())}'
        for versions in {json.dumps(row.versions): row.versions
                         for row in rows.values() if row.versions}.values()
    ] + [
        _protocol_line(names, protocol)
        for protocol, names in by_protocol.values()
    ] + [
        f'{name}: no masks of {row.eval_split} (eval_gt_dir None): image '
        'labels only, nothing is scored'
        for name, row in rows.items() if row.settings.get('eval_gt_dir')
        is None and row.refinement is None and row.labels_from == MAPS
    ]
    if full:
        notes.append('(x%): of the full-supervision row\'s mIoU under the '
                     'same protocol')
    return '\n'.join([table.get_string(), *notes])
