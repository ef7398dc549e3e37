"""A step of the pipeline as a value: what it makes, from what, and how.

Every step is treated the same by :class:`~mmadv.pipeline.runner.
StepRunner`: skipped when its record says it was made from the same
inputs and its outputs are whole, refused when it was made from other
inputs, else run, timed, logged and recorded. A new step or refinement
adds steps, not orchestration code.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, Sequence

# a step's context: the results of the steps before it, by title
Results = Dict[str, dict]


@dataclass
class Step:
    """One step of a config's run.

    Attributes:
        title (str): ``[<row>] <what>``, e.g. ``[cam_demo] maps val``: its
            console line and its record's name.
        log (str): Its log file's name in ``<work dir>/logs/``.
        outputs (Sequence[str]): What it makes, relative to the config's
            work directory (named when it is refused).
        inputs (callable): ``inputs(results) -> dict``, what makes its
            outputs what they are (settings, the content digests and
            records of the outputs it reads), from the results of the
            steps before it; recorded, and compared on a rerun.
        run (callable): ``run(results) -> dict``, does the work; its
            result, with ``note``, the text of its console line, and what
            later steps need (a checkpoint, a threshold, a score).
        complete (callable): ``complete(results, result) -> bool``,
            whether its outputs are whole and still those of its recorded
            ``result`` (every label PNG there, the final checkpoint with
            its recorded content): a recorded step whose outputs are not
            is run again, which resumes it. Defaults to always.
    """

    title: str
    log: str
    outputs: Sequence[str]
    inputs: Callable[[Results], dict]
    run: Callable[[Results], dict]
    complete: Callable[[Results, dict], bool] = field(
        default=lambda results, result: True)
