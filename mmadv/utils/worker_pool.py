"""A process pool that a dying worker cannot hang.

``multiprocessing.Pool`` replaces a worker that dies abruptly (a segfault
in a C extension such as pydensecrf, an abort, the out-of-memory killer)
and waits forever for the result of the task it held. Here each worker
has its own pipe, on which the parent sends its tasks and reads their
results, so the parent knows the tasks every worker holds; a dead worker
closes its pipe, and the parent stops every worker and raises one line
naming the task and how the worker died.
"""
import collections
import itertools
import multiprocessing
import pickle
import signal
from multiprocessing.connection import Connection, wait
from multiprocessing.pool import ExceptionWithTraceback
from typing import (Callable, Deque, Dict, Iterator, List, Sequence, Tuple,
                    TypeVar)

import torch

from .errors import InputError

T = TypeVar('T')
R = TypeVar('R')

# tasks sent ahead to each worker, so that it never waits for the parent;
# with the results in flight they bound the memory of fast workers
PREFETCH = 2


def _serve(job: Callable[[T], R], conn: Connection,
           parent_ends: List[Connection]) -> None:
    """A worker: ``job(task)`` of every task read from ``conn``, in order,
    each answered with ``(True, result)`` or ``(False, exception)`` (with
    its traceback, as ``multiprocessing.Pool`` sends it), until the parent
    closes the pipe or dies (the parent's ends of the pipes, inherited by
    the fork, are closed here). Ctrl-C is left to the parent, which stops
    the workers; one torch thread, as in a ``DataLoader`` worker (a forked
    child that starts the thread pool its parent used can hang)."""
    for end in parent_ends:
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        try:
            answer = True, job(task)
        except Exception as error:
            answer = False, ExceptionWithTraceback(error, error.__traceback__)
        # plain pickle: a tensor is copied, not put in shared memory whose
        # handle would die with this process
        conn.send_bytes(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))


def exit_reason(exitcode: int) -> str:
    """How a process with ``exitcode`` (``Process.exitcode``: the negated
    signal number for a signal) ended, e.g. ``'was killed by signal
    SIGSEGV (Segmentation fault)'``; SIGKILL hints at the out-of-memory
    killer, which sends it."""
    if exitcode >= 0:
        return f'exited with status {exitcode}'
    number = -exitcode
    try:
        name = signal.Signals(number).name
    except ValueError:  # a real-time signal
        name = str(number)
    why = ('the out-of-memory killer?' if number == signal.SIGKILL else
           signal.strsignal(number))
    return f'was killed by signal {name} ({why})'


def imap_unordered(job: Callable[[T], R],
                   tasks: Sequence[T],
                   workers: int,
                   doing: Callable[[T], str],
                   note: str = '') -> Iterator[R]:
    """``job(task)`` of every task, in ``workers`` forked processes (0: in
    this one, in order), in completion order.

    A job's exception reaches the caller as ``multiprocessing.Pool``
    passes it on: its type and message, the worker's traceback as its
    ``__cause__``. Every way out (the last result, an error, a dead
    worker, closing the generator early, Ctrl-C) kills the workers and
    waits for them.

    Args:
        job (callable): ``job(task) -> result``, inherited by the forked
            workers (it need not be picklable; its results must be).
        tasks (Sequence): The tasks, picklable.
        workers (int): Worker processes.
        doing (callable): ``doing(task)``, what a worker does with a task,
            e.g. ``'making the label of 2007_000032'``.
        note (str): Added to the error of a dead worker, e.g. what is
            kept. Defaults to ''.

    Raises:
        InputError: A worker died, e.g. ``worker (pid 12) was killed by
            signal SIGSEGV (Segmentation fault) while making the label of
            2007_000032; the pool is shut down (<note>)``.
    """
    if workers < 1:
        yield from map(job, tasks)
        return
    context = multiprocessing.get_context('fork')
    todo = iter(tasks)
    # each worker's pipe -> the worker and the tasks it holds, oldest first
    pool: Dict[Connection, Tuple[multiprocessing.Process, Deque[T]]] = {}

    def send(conn: Connection, count: int) -> None:
        for task in itertools.islice(todo, count):
            pool[conn][1].append(task)
            try:
                conn.send(task)
            except OSError:  # died: wait() finds its pipe closed
                return

    try:
        for _ in range(min(workers, len(tasks))):
            conn, child_conn = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(job, child_conn, [conn, *pool]),
                daemon=True)
            process.start()
            child_conn.close()  # so that its death closes the pipe
            pool[conn] = process, collections.deque()
            send(conn, PREFETCH)
        while True:
            busy = [conn for conn, (_, held) in pool.items() if held]
            if not busy:
                return
            for conn in wait(busy):
                process, held = pool[conn]
                try:
                    ok, result = pickle.loads(conn.recv_bytes())
                except (EOFError, ConnectionResetError):
                    process.join()
                    suffix = f' ({note})' if note else ''
                    raise InputError(
                        f'worker (pid {process.pid}) '
                        f'{exit_reason(process.exitcode)} while '
                        f'{doing(held[0])}; the pool is shut down'
                        f'{suffix}') from None
                if not ok:
                    raise result
                held.popleft()
                send(conn, 1)
                yield result
    finally:
        for process, _ in pool.values():
            process.kill()
        for conn, (process, _) in pool.items():
            process.join()
            conn.close()
