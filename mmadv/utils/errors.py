"""The exceptions mmadv's library code raises for bad input.

Every message is one line that names the file, folder, setting or value at
fault. Library code raises them and never exits; the tools catch
:class:`MMAdvError`, print its message and exit with status 1.

Each class also derives from the built-in exception a caller would expect
(``ValueError``, ``FileNotFoundError``), so ``except ValueError`` keeps
working.
"""


class MMAdvError(Exception):
    """Base of mmadv's user-facing errors (one line, names the culprit)."""


class ConfigError(MMAdvError, ValueError):
    """A setting, config value or option that is not allowed."""


class InputError(MMAdvError, ValueError):
    """A file or folder whose content is wrong, or that was made for other
    inputs or settings (another split, another model)."""


class MissingInputError(MMAdvError, FileNotFoundError):
    """A file or folder that must exist and does not."""


class OutputExistsError(MMAdvError, FileExistsError):
    """An output file or folder that exists and was made otherwise."""


def one_line(error: BaseException) -> str:
    """The first line of ``error``'s message, or its type's name when the
    message is empty (for wrapping a library's error in one of ours)."""
    return (str(error).splitlines() or [type(error).__name__])[0]
