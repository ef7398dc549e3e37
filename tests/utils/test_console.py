"""The pipeline's quiet and verbose steps: where printed lines, loggers
and a launched tool's output go."""
import contextlib
import io
import os
import types

import pytest
from mmengine.logging import MMLogger

from mmadv.engine.hooks.progress_bar_hook import ProgressBarHook
from mmadv.pipeline import Launcher
from mmadv.utils.cli import run_tool
from mmadv.utils.console import console, erase_progress_bar, quiet
from mmadv.utils.errors import InputError
from mmadv.utils.instances import forget_new_instances, unique_name


@pytest.mark.parametrize('echo', [False, True])
def test_quiet_step_keeps_every_line_in_its_log(tmp_path, echo):
    log_file = tmp_path / 'step.log'
    log_file.write_text('before\n')
    screen = io.StringIO()
    with contextlib.redirect_stdout(screen):
        with forget_new_instances(), quiet(str(log_file), echo):
            print('printed')
            MMLogger.get_instance(unique_name('t'),
                                  logger_name='mmadv').info('logged')
            assert console() is screen
            console().write('bar\n')
        print('after')
    log = log_file.read_text()
    assert log.startswith('before\nprinted\n')  # appended to
    assert 'logged' in log and 'bar' not in log and 'after' not in log
    shown = screen.getvalue()
    assert ('printed' in shown) is echo and ('logged' in shown) is echo
    assert 'bar' in shown and 'after' in shown


def test_work_under_torchrun_goes_to_the_step(tmp_path, monkeypatch):
    """The lines of the torchrun processes reach ``sys.stdout`` (the step's
    log, or the log and the console); a failing one is one line naming
    the work; one GPU runs it here and returns its result."""
    (tmp_path / 'hello_step.py').write_text(
        'import sys\n'
        'def hello(code):\n'
        '    print("out", code)\n'
        '    print("err", file=sys.stderr)\n'
        '    if code:\n'
        '        sys.exit(code)\n'
        '    return "here"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        [str(tmp_path), os.environ.get('PYTHONPATH', '')]))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert Launcher(2)('hello_step:hello', code=0) is None
    # the two processes' lines may interleave
    assert out.getvalue().count('out') == out.getvalue().count('err') == 2
    # torchrun exits 1 when a process fails
    with pytest.raises(InputError, match=r'^hello_step:hello failed under '
                       r'torchrun \(exit 1\): .*mmadv\.pipeline\.launcher'
                       ), contextlib.redirect_stdout(io.StringIO()):
        Launcher(2)('hello_step:hello', code=3)
    with contextlib.redirect_stdout(io.StringIO()):
        assert Launcher(1)('hello_step:hello', code=0) == 'here'


class Terminal(io.StringIO):

    def isatty(self):
        return True


def test_an_error_starts_on_a_line_of_its_own():
    """A progress bar whose work stopped with an error (a Runner's hook
    never reaches ``after_train``) is erased before the tool's message."""
    screen = Terminal()
    hook = ProgressBarHook()  # alive, as the Runner that holds it

    def stops_half_way():  # as a Runner calls its hooks
        runner = types.SimpleNamespace(max_iters=4, iter=0)
        hook.before_train(runner)
        hook.after_train_iter(runner, 0)
        raise InputError('bad.png: no labels')

    with contextlib.redirect_stdout(screen):
        with pytest.raises(SystemExit, match='^t: error: bad.png'):
            run_tool(stops_half_way, 't')
        drawn = screen.getvalue()
        assert '1/4' in drawn and drawn.endswith('\r\033[2K')
        erase_progress_bar()  # nothing left to erase
        assert screen.getvalue() == drawn


def test_a_log_file_that_is_a_link_is_not_followed(tmp_path):
    """A step's log replaced by a symbolic link (to a file the step must
    not write) is refused in one line; the file it points to is left as
    it was."""
    target = tmp_path / 'precious.txt'
    target.write_text('keep me\n')
    log_file = tmp_path / 'step.log'
    log_file.symlink_to(target)
    with pytest.raises(InputError) as info:
        with quiet(str(log_file)):
            print('a line of the step')
    assert str(info.value) == (
        f'log file {log_file} is a symbolic link (to {target}): delete the '
        'link, the log is written in its place')
    assert target.read_text() == 'keep me\n'
