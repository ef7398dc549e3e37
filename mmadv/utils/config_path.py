"""Where a config named by a relative path is: in the current directory,
else among the configs installed with the package.

The repository's ``configs/`` are installed under ``mmadv/.mim/configs``,
as mmseg packages its own (copied into a wheel by ``pip install .``,
linked by ``pip install -e .``), so that ``configs/demo/cam_demo.py``
names the same file from any directory, with no path of a checkout in the
package. A relative path that a config itself names (a refinement's
config in ``wsss_pipeline``) is looked up the same way.
"""
import os.path as osp

from .errors import MissingInputError

# the package's own copy of the repository's configs (and the root that
# relative names like 'configs/demo/cam_demo.py' start from)
INSTALLED = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     '.mim')


def resolve_config(path: str, name: str) -> str:
    """``path`` as an absolute path without links (the same file has one
    name whichever way it is found): relative to the current directory,
    else to the installed configs (``configs/...`` under
    :data:`INSTALLED`).

    Raises:
        MissingInputError: Neither exists; names setting ``name`` and both
            places tried.
    """
    if osp.isfile(path):
        return osp.realpath(path)
    installed = osp.join(INSTALLED, path)
    if not osp.isabs(path) and osp.isfile(installed):
        return osp.realpath(installed)
    raise MissingInputError(f'{name} {path} not found (tried the current '
                            f'directory and the installed configs, '
                            f'{INSTALLED})')
