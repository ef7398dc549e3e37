"""What a user sees while long work runs: progress bars and one line per
step on the console, everything else (mmengine's logs, warnings, tables)
in a log file when a step runs quietly."""
import contextlib
import errno
import os
import sys
from typing import Iterator, Optional, TextIO

from mmengine.utils import ProgressBar

from .errors import InputError

_console: Optional[TextIO] = None
# the stream whose last line is a progress bar not erased yet
_bar_stream: Optional[TextIO] = None


def console() -> TextIO:
    """The console stream: standard output as it was before a
    :func:`quiet` block redirected it."""
    return _console or sys.stdout


class _NoBar:

    def update(self, num_tasks: int = 1) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int) -> Iterator[ProgressBar]:
    """mmengine's ``ProgressBar`` over ``total`` tasks on the
    :func:`console`, erased on exit; one that draws nothing when ``total``
    is 0 or the console is not a terminal (a log file gets no bars)."""
    global _bar_stream
    stream = console()
    if total <= 0 or not stream.isatty():
        yield _NoBar()
        return
    bar = ProgressBar(total, file=stream)
    _bar_stream = stream
    try:
        yield bar
    finally:
        erase_progress_bar()


def erase_progress_bar() -> None:
    """Erase the line of a progress bar still on the console (one whose
    work stopped with an error), so that the next line starts clean."""
    global _bar_stream
    if _bar_stream is not None:
        _bar_stream.write('\r\033[2K')
        _bar_stream.flush()
        _bar_stream = None


class _Tee:
    """A text stream that writes to several streams."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def quiet(log_file: str, echo: bool = False) -> Iterator[None]:
    """Send standard output and error to ``log_file`` (appended to) while
    progress bars keep writing to the console; with ``echo``, to the
    console as well (every line on both). A ``log_file`` that is a
    symbolic link is refused (:class:`~mmadv.utils.errors.InputError`):
    the log is written where it is named, never through a link to
    another file."""
    global _console
    try:
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND
                     | os.O_NOFOLLOW, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(f'log file {log_file} is a symbolic link (to '
                             f'{os.readlink(log_file)}): delete the link, '
                             'the log is written in its place') from None
        raise
    saved = _console
    _console = console()
    try:
        with open(fd, 'a') as f:
            stream = _Tee(f, _console) if echo else f
            with contextlib.redirect_stdout(stream), \
                    contextlib.redirect_stderr(stream):
                yield
    finally:
        _console = saved
