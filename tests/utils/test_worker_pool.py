"""The worker pool: where the jobs run and with what setup, a job's errors,
stopping early, and how the end of a dead worker is told. A worker that
dies on a job: tests/pseudo_labels (the label and map pools)."""
import multiprocessing
import os
import signal
import threading
import time

import pytest
import torch

from mmadv.utils import InputError
from mmadv.utils.worker_pool import exit_reason, imap_unordered


def doing(task):
    return f'doing task {task}'


def where(task):
    """The task, and the process, torch threads and Ctrl-C handler that
    ran it."""
    return (task, os.getpid(), torch.get_num_threads(),
            signal.getsignal(signal.SIGINT))


@pytest.fixture
def two_threads():
    """Two torch threads here (one a process under ``pytest -n 2``), so
    that the workers' one is theirs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def test_jobs_run_here_in_order_or_in_the_workers(new_children, two_threads):
    tasks = list(range(20))
    here = (os.getpid(), torch.get_num_threads(),
            signal.getsignal(signal.SIGINT))
    assert list(imap_unordered(where, tasks, 0, doing)) == [
        (task, *here) for task in tasks
    ]
    results = list(imap_unordered(where, tasks, 3, doing))
    assert sorted(task for task, *_ in results) == tasks
    pids = {pid for _, pid, *_ in results}
    assert len(pids) == 3 and os.getpid() not in pids
    # one torch thread each; Ctrl-C is the parent's
    assert {result[2:] for result in results} == {(1, signal.SIG_IGN)}
    assert not new_children()


def fail_on_7(task):
    if task == 7:
        raise ZeroDivisionError(f'cannot do task {task}')
    if task == 8:
        raise InputError(f'bad input {task}')
    return task


@pytest.mark.parametrize('tasks, error_type, message',
                         [(range(8), ZeroDivisionError, 'cannot do task 7'),
                          (range(8, 20), InputError, 'bad input 8')])
def test_a_job_error_keeps_its_type_message_and_traceback(
        tasks, error_type, message, new_children):
    for workers in (0, 2):
        with pytest.raises(error_type) as error:
            list(imap_unordered(fail_on_7, tasks, workers, doing))
        assert str(error.value) == message
        assert not new_children()
    # from a worker: its traceback, as multiprocessing.Pool gives it
    assert 'in fail_on_7\n' in str(error.value.__cause__)


@pytest.fixture
def python_ctrl_c():
    """Python's Ctrl-C (KeyboardInterrupt), also where the suite started
    with SIGINT ignored (a shell's background job: ``nohup ... &``)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_stopping_early_kills_the_workers(new_children, python_ctrl_c):
    results = imap_unordered(time.sleep, [0.01] * 100, 2, doing)
    next(results)
    assert len(new_children()) == 2
    results.close()
    assert not new_children()
    # Ctrl-C in the parent while it waits for a result
    results = imap_unordered(time.sleep, [10] * 4, 2, doing)
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        next(results)
    assert not new_children()


def pids_then_sleep(conn):
    """A parent of two workers: sends their pids on ``conn`` while they
    still hold tasks, then sleeps."""
    results = imap_unordered(where, range(100), 2, doing)
    pids = set()
    while len(pids) < 2:
        pids.add(next(results)[1])
    conn.send(pids)
    time.sleep(60)


def running(pid):
    """Whether process ``pid`` runs (neither gone nor a zombie)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def test_the_workers_end_with_their_parent():
    # e.g. a parent killed by the out-of-memory killer
    conn, child_conn = multiprocessing.Pipe()
    parent = multiprocessing.get_context('fork').Process(
        target=pids_then_sleep, args=(child_conn, ))
    parent.start()
    child_conn.close()
    pids = conn.recv()
    assert all(map(running, pids))
    parent.kill()
    parent.join()
    start = time.monotonic()
    while any(map(running, pids)) and time.monotonic() - start < 5:
        time.sleep(0.01)
    assert not any(map(running, pids))


@pytest.mark.parametrize('exitcode, reason', [
    (0, 'exited with status 0'),
    (3, 'exited with status 3'),
    (-signal.SIGSEGV, 'was killed by signal SIGSEGV (Segmentation fault)'),
    (-signal.SIGKILL,
     'was killed by signal SIGKILL (the out-of-memory killer?)'),
    (-signal.SIGRTMIN - 2, f'was killed by signal {signal.SIGRTMIN + 2} '
     f'({signal.strsignal(signal.SIGRTMIN + 2)})'),
])
def test_exit_reason(exitcode, reason):
    assert exit_reason(exitcode) == reason
