"""The whole WSSS pipeline, in one process, for one or more stage-1
configs: each config planned and checked (:mod:`.plan`), then its steps
(:mod:`.graph`) run by one :class:`~.runner.StepRunner`, then the table.

Under ``<work_dir>/<config name>/``: ``configs/`` (the merged config of
every network it trains, which its steps run), ``records/`` (what made
each step's outputs), ``logs/`` (each step's full output) and the
outputs of the steps (:mod:`.graph`). ``<work_dir>/metrics.json`` holds
the rows (:class:`~.rows.Row`).

Every setting, config, split, image and mask the run needs is checked
before the first training; an interrupted run continues where it
stopped; a step whose outputs were made from other inputs is refused in
one line naming what differs. A subprocess runs only with ``gpus > 1``
(:class:`~.launcher.Launcher`).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.logging import MMLogger

from ..utils.atomic import write_json
from ..utils.errors import ConfigError
from ..utils.instances import forget_new_instances, unique_name
from .graph import ConfigGraph
from .launcher import Launcher
from .plan import ConfigPlan, check_model_keys, plan_config
from .rows import Row, summary_table
from .runner import StepRunner


def run_pipeline(configs: Sequence[str],
                 work_dir: str = 'work_dirs/pipeline',
                 data_root: Optional[str] = None,
                 seed: Optional[int] = None,
                 cfg_options: Optional[dict] = None,
                 model_cfg_options: Optional[Dict[str, dict]] = None,
                 pipeline_options: Optional[dict] = None,
                 gpus: int = 1,
                 verbose: bool = False) -> Dict[str, Row]:
    """Run the pipeline (see the module docstring) for every config.

    Args:
        configs (Sequence[str]): Stage-1 configs (relative to the current
            directory or the installed configs); their names must differ.
        work_dir (str): Where everything goes. Defaults to
            ``'work_dirs/pipeline'``.
        data_root (str, optional): Overrides the configs' data roots.
        seed (int, optional): ``randomness.seed`` of every training (a
            network's own ``model_cfg_options`` seed beats it).
        cfg_options (dict, optional): Overrides of the stage-1 configs.
        model_cfg_options (dict, optional): Overrides of the other
            networks' configs, by network: ``seg`` (the segmentation
            networks) or a refinement's key (its model), e.g.
            ``dict(seg={'train_cfg.max_iters': 400})``; a config that
            trains no such network leaves them unused, with a warning.
        pipeline_options (dict, optional): Overrides of the settings
            (:class:`~mmadv.pipeline.PipelineSettings`), e.g.
            ``dict(crf=True)`` or ``{'random_walk.logt': 6}``.
        gpus (int): Processes per training, test and map step
            (``torchrun``) when > 1. Defaults to 1.
        verbose (bool): Every log line on the console. Defaults to False.

    Returns:
        dict: The rows of the summary table by name (``<config name>``,
        ``<config name><refinement row>``); also written to
        ``<work_dir>/metrics.json``.
    """
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if not configs or len(set(names)) < len(names):
        raise ConfigError(f'configs must be given and named apart (each '
                          f'gets <work_dir>/<name>), got {names}')
    if gpus < 1:
        raise ConfigError(f'gpus must be >= 1, got {gpus}')
    model_cfg_options = check_model_keys(model_cfg_options)
    os.makedirs(work_dir, exist_ok=True)
    with forget_new_instances():
        logger = MMLogger.get_instance(
            unique_name('pipeline'),
            logger_name='mmadv',
            log_file=osp.join(work_dir, 'pipeline.log'),
            file_mode='a')
        # every config checked, then frozen, before the first training
        plans: List[ConfigPlan] = [
            plan_config(config, work_dir, data_root, seed, cfg_options,
                        model_cfg_options, pipeline_options)
            for config in configs
        ]
        for plan in plans:
            plan.freeze()
        rows = {}
        for plan in plans:
            graph = ConfigGraph(plan, Launcher(gpus), not verbose).build()
            runner = StepRunner(plan.root, logger, verbose)
            results = runner.run(graph.steps)
            for label, read in graph.rows.items():
                rows[label] = read(results)
                rows[label].step_seconds = {
                    title: seconds
                    for title, seconds in runner.seconds.items()
                    if title.startswith(f'[{label}]')
                }
        metrics_file = osp.join(work_dir, 'metrics.json')
        write_json(metrics_file,
                   {name: row.to_dict()
                    for name, row in rows.items()})
        logger.info('\n' + summary_table(rows))
        logger.info(f'metrics: {osp.abspath(metrics_file)}')
        for name, row in rows.items():
            logger.info(f'{name}: stage-1 checkpoint '
                        f'{row.stage1_checkpoint}, pseudo-labels '
                        f'{row.pseudo_labels}/, segmentation checkpoint '
                        f'{row.seg_checkpoint}')
    return rows
