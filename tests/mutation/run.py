"""Apply each mutant of ``mutants.py`` to the working tree in turn, run its
tests, restore the file, and report which were killed (a test failed).

Usage (from the repository root; a few minutes on two CPU cores)::

    python tests/mutation/run.py [NAME_SUBSTRING ...]

Exit status 1 when a mutant survives or no longer applies (its text is not
in the file: update the list with the code).
"""
import os.path as osp
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from mutants import MUTANTS  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run(mutant) -> str:
    path = osp.join(ROOT, mutant.path)
    with open(path) as f:
        original = f.read()
    if original.count(mutant.old) != 1:
        return 'does not apply'
    try:
        with open(path, 'w') as f:
            f.write(original.replace(mutant.old, mutant.new))
        done = subprocess.run(
            [sys.executable, '-m', 'pytest', '-x', '-q', '-p',
             'no:cacheprovider', *mutant.tests], cwd=ROOT,
            capture_output=True, text=True)
    finally:
        with open(path, 'w') as f:
            f.write(original)
    return 'killed' if done.returncode == 1 else \
        'survived' if done.returncode == 0 else \
        f'error (pytest exit {done.returncode})'


def main(names) -> int:
    chosen = [m for m in MUTANTS
              if not names or any(n in m.name for n in names)]
    results = []
    for mutant in chosen:
        start = time.perf_counter()
        outcome = run(mutant)
        results.append(outcome)
        print(f'{outcome:>16}  {mutant.name}  ({mutant.path}, '
              f'{time.perf_counter() - start:.0f} s)', flush=True)
    killed = results.count('killed')
    print(f'killed {killed} of {len(chosen)}')
    return 0 if killed == len(chosen) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
