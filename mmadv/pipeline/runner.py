"""One runner for every step: skip it when its record matches, refuse it
when its outputs were made from other inputs, else run it quietly (its
full output in its log), time it and record it."""
import contextlib
import json
import os
import os.path as osp
import time
from typing import Dict, Iterator, Sequence

from mmengine.logging import MMLogger

from ..utils.console import erase_progress_bar, quiet
from ..utils.errors import InputError
from ..utils.instances import forget_new_instances, unique_name
from .records import absolute, read_record, refusal, relative, write_record
from .step import Results, Step


def _as_json(value):
    """``value`` as a JSON file holds it (tuples as lists, numpy values as
    numbers), so that a recorded and a new one compare."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist()))


class StepRunner:
    """Runs the steps of one config in its work directory ``root``.

    Each step's record, ``<root>/records/<log name>.json``, holds its
    inputs and result (paths inside ``root`` relative to it), its seconds
    and the root it was made in (the paths that files of a copied work
    directory hold are of that root). A step is

    - skipped (one console line, ``done before``) when its record holds
      the same inputs and its outputs are whole (``Step.complete``);
    - refused (:class:`InputError` naming its outputs and the inputs
      that differ, old and new) when the record holds other inputs;
    - else run: one console line when it ends (a progress bar while it
      runs), its full output in ``<root>/logs/<log>`` (on the console too
      with ``verbose``), its result recorded.

    Args:
        root (str): The config's work directory.
        logger (MMLogger): The console's logger.
        verbose (bool): Every log line on the console.
    """

    def __init__(self, root: str, logger: MMLogger, verbose: bool) -> None:
        self.root = root
        self.logger = logger
        self.verbose = verbose
        self.results: Results = {}
        self.seconds: Dict[str, float] = {}

    def run(self, steps: Sequence[Step]) -> Results:
        """Every step in order; their results by title."""
        for step in steps:
            self.results[step.title] = self._step(step)
        return self.results

    def _step(self, step: Step) -> dict:
        path = osp.join(self.root, 'records',
                        osp.splitext(step.log)[0] + '.json')
        inputs = _as_json(relative(step.inputs(self.results), self.root))
        if osp.isfile(path):
            record = read_record(path)
            # the paths the inputs read from files made in the root the
            # record was made in (a copied or moved work directory)
            now = relative(inputs, record.get('root', self.root))
            if record['inputs'] != now:
                raise InputError(
                    refusal(step.title, [
                        osp.join(self.root, output)
                        for output in step.outputs
                    ], record['inputs'], now))
            result = absolute(record['result'], self.root)
            if step.complete(self.results, result):
                self.seconds[step.title] = record['seconds']
                self.logger.info(f'{step.title}: done before '
                                 f'({result["note"]})')
                return result
        with self._quiet(step) as elapsed:
            result = step.run(self.results)
        self.seconds[step.title] = elapsed()
        write_record(path, dict(root=self.root, inputs=inputs,
                                result=_as_json(relative(result, self.root)),
                                seconds=self.seconds[step.title]))
        self.logger.info(f'{step.title}: {result["note"]} '
                         f'({self.seconds[step.title]:.0f} s)')
        return result

    @contextlib.contextmanager
    def _quiet(self, step: Step) -> Iterator:
        """Run the block as ``step``, its output in its log; yields a
        function giving the seconds since it began."""
        log_dir = osp.join(self.root, 'logs')
        os.makedirs(log_dir, exist_ok=True)
        log_file = osp.join(log_dir, step.log)
        start = time.perf_counter()
        try:
            with forget_new_instances(), quiet(log_file, self.verbose):
                # the current logger of the step, on the redirected stdout
                MMLogger.get_instance(unique_name('step'),
                                      logger_name='mmadv')
                yield lambda: time.perf_counter() - start
        except BaseException:  # an error, or Ctrl-C
            erase_progress_bar()
            self.logger.error(f'{step.title}: stopped after '
                              f'{time.perf_counter() - start:.0f} s (log: '
                              f'{log_file})')
            raise
