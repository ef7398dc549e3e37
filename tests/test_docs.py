"""The code blocks of README.md and docs/*.md run as written.

Every ``python`` and ``bash`` block of the pages is one of:

- run. A Python block is executed; one whose first line is a comment
  naming a config (``# configs/<path>.py``) is that config file: it is
  written there, loaded by mmengine and, when it has a model, the model is
  built as the tools build it (fitted to its data set, no weights read).
  A shell block is a list of commands ``python tools/<tool>.py ...`` or
  ``python -m mmadv.<module> ...``, each run in this process through the
  tool's ``main(argv)``; it must not exit with another status than 0.
- not run: marked ``<!-- not run: <why> -->`` on the line just above its
  fence (it needs VOC, COCO, a GPU, your own data or minutes of
  training, or it installs).

A block of another language (``text``, ``bibtex``) is not code; a block
without a language, or one that is neither run nor marked, fails. The
blocks of a page run in order in one scratch folder that links the
repository's ``configs/`` and ``tools/``, so a block may use what an
earlier one wrote and nothing is written into the repository.

Also held here: the README's length, each "Recipe:" section's length,
every relative link and anchor of the pages, the docs sections that the
configs name, and the README's install and test commands that CI runs.
"""
import contextlib
import importlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO, load_tool

PAGES = ['README.md'] + sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'docs').glob('*.md'))
RUNNABLE = ('python', 'bash')
NOT_CODE = ('text', 'bibtex')
NOT_RUN = re.compile(r'^<!-- not run: (\S.*\S) -->$')
CONFIG_FILE = re.compile(r'^# (configs/\S+\.py)\b')
FENCE = re.compile(r'^```(\S*)\s*$')
README_LINES = 250
RECIPE_LINES = 20


def code_blocks(page: str) -> list:
    """``(line, language, code, not_run_reason)`` of each fenced block of
    ``page`` (``line``: the fence's line number)."""
    lines = (REPO / page).read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, language = i, match.group(1)
        end = next(j for j in range(i + 1, len(lines))
                   if lines[j].startswith('```'))
        marker = NOT_RUN.match(lines[start - 1]) if start else None
        blocks.append((start + 1, language, '\n'.join(lines[start + 1:end]),
                       marker.group(1) if marker else None))
        i = end + 1
    return blocks


def prose_lines(page: str) -> list:
    """``(line number, text)`` of ``page`` outside its code blocks."""
    lines, inside = [], False
    for number, line in enumerate((REPO / page).read_text().splitlines(), 1):
        if line.startswith('```'):
            inside = not inside
        elif not inside:
            lines.append((number, line))
    return lines


def anchors(page: str) -> set:
    """GitHub's anchors of the headings of ``page``: lower case, every
    character but letters, digits, ``_``, ``-`` and spaces dropped, spaces
    made ``-``; a repeated one gets ``-1``, ``-2``, ..."""
    seen = {}
    for _, line in prose_lines(page):
        heading = re.match(r'^#{1,6} (.+)$', line)
        if heading:
            slug = re.sub(r'[^\w\- ]', '', heading.group(1).strip().lower())
            slug = slug.replace(' ', '-')
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            if count:
                seen[f'{slug}-{count}'] = 1
    return set(seen)


def shell_commands(code: str) -> list:
    """The commands of a shell block: continued lines joined, comments
    dropped."""
    joined = re.sub(r'\\\n\s*', ' ', code)
    return [words for words in (shlex.split(line, comments=True)
                                for line in joined.splitlines()) if words]


def run_command(words: list) -> None:
    """``python tools/<tool>.py args`` or ``python -m mmadv.<module> args``
    through the tool's ``main(argv)``, in this process."""
    if len(words) > 1 and words[0] == 'python' and words[1].startswith(
            'tools/') and words[1].endswith('.py'):
        main, argv = load_tool(words[1][len('tools/'):]).main, words[2:]
    elif words[:2] == ['python', '-m'] and words[2].startswith('mmadv.'):
        main, argv = importlib.import_module(words[2]).main, words[3:]
    else:
        pytest.fail(f'{shlex.join(words)}: not a command this test can run '
                    '(python tools/... or python -m mmadv....): mark its '
                    'block <!-- not run: <why> -->')
    try:
        main(argv)  # as ``if __name__ == '__main__': main()``
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            pytest.fail(f'{shlex.join(words)} exited with {exit_.code!r}')


def run_config(path: str, code: str) -> None:
    """Write the config file ``path``, load it and build its model as the
    tools do (no weights read)."""
    from mmengine.config import Config

    from mmadv.engine import fit_to_dataset
    from mmadv.engine.model_loading import build_model
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(code + '\n')
    cfg = Config.fromfile(path)
    if cfg.get('model'):
        build_model(fit_to_dataset(cfg))


@contextlib.contextmanager
def registries_kept():
    """The registries as they were, whatever a block registers."""
    from mmseg.registry import MODELS

    from mmadv.refinements import REFINEMENTS
    saved = [(r, dict(r.module_dict)) for r in (REFINEMENTS, MODELS)]
    try:
        yield
    finally:
        for registry, modules in saved:
            registry.module_dict.clear()
            registry.module_dict.update(modules)


def scratch_folder(folder: Path) -> Path:
    """``folder`` with ``configs/`` (a folder of links to the repository's
    configs, so new configs land here) and ``tools`` linked."""
    (folder / 'configs').mkdir(parents=True)
    for entry in (REPO / 'configs').iterdir():
        (folder / 'configs' / entry.name).symlink_to(entry)
    (folder / 'tools').symlink_to(REPO / 'tools')
    return folder


@pytest.mark.parametrize('page', PAGES)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    import mmadv  # noqa: F401  (as the tools and the pages do)
    monkeypatch.chdir(scratch_folder(tmp_path))
    for line, language, code, not_run in code_blocks(page):
        where = f'{page}:{line}'
        assert language, f'{where}: name the language of the block'
        if language in NOT_CODE or not_run:
            continue
        assert language in RUNNABLE, (
            f'{where}: a {language} block: mark it <!-- not run: <why> -->')
        output = io.StringIO()
        try:
            with registries_kept(), contextlib.redirect_stdout(output), \
                    contextlib.redirect_stderr(output):
                if language == 'bash':
                    for words in shell_commands(code):
                        run_command(words)
                elif CONFIG_FILE.match(code):
                    run_config(CONFIG_FILE.match(code).group(1), code)
                else:
                    exec(compile(code, where, 'exec'), {'__name__': where})
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            pytest.fail(f'{where}: the block failed: {error!r}\n'
                        f'{output.getvalue()[-3000:]}')


def test_every_marker_stands_above_a_block():
    for page in PAGES:
        lines = (REPO / page).read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if line.startswith('<!-- not run'):
                assert NOT_RUN.match(line), f'{page}:{number}: give a reason'
                assert number < len(lines) and FENCE.match(lines[number]), (
                    f'{page}:{number}: the marker must stand just above the '
                    'fence of the block it marks')


def test_pages_hold_runnable_blocks():
    """The pages hold blocks that run, so the test above tests
    something."""
    counts = {'run': 0, 'not run': 0}
    for page in PAGES:
        for _, language, _, not_run in code_blocks(page):
            if language in RUNNABLE:
                counts['not run' if not_run else 'run'] += 1
    assert counts['run'] >= 8, counts


def test_readme_is_short():
    lines = (REPO / 'README.md').read_text().splitlines()
    assert len(lines) <= README_LINES, len(lines)


def test_recipes_are_short():
    recipes = 0
    for page in PAGES:
        lines = (REPO / page).read_text().splitlines()
        headings = [number - 1 for number, line in prose_lines(page)
                    if re.match(r'^#{1,6} ', line)]
        for start in (i for i in headings
                      if re.match(r'^#+ Recipe: ', lines[i])):
            end = min([i for i in headings if i > start] or [len(lines)])
            body = lines[start:end]
            while not body[-1].strip():
                body.pop()
            assert len(body) <= RECIPE_LINES, (
                f'{page}:{start + 1}: {lines[start]!r} has {len(body)} lines')
            recipes += 1
    assert recipes >= 4


def test_links_and_anchors_exist():
    for page in PAGES:
        folder = (REPO / page).parent
        for number, line in prose_lines(page):
            for target in re.findall(r'\]\(([^)\s]+)\)', line):
                if re.match(r'^[a-z]+:', target):
                    continue  # a web address
                path, _, anchor = target.partition('#')
                file = (folder / path).resolve() if path else REPO / page
                name = str(file.relative_to(REPO))
                assert file.exists(), f'{page}:{number}: {target} not found'
                if anchor:
                    assert anchor in anchors(name), (
                        f'{page}:{number}: no heading #{anchor} in {name}')


def test_docs_sections_named_in_configs_exist():
    named = 0
    for config in (REPO / 'configs').rglob('*.py'):
        text = re.sub(r'\n#\s*', ' ', config.read_text())
        for page, section in re.findall(
                r'docs/(\w+\.md)(?:, "([^"]+)")?', text):
            assert (REPO / 'docs' / page).is_file(), (config, page)
            if section:
                slug = re.sub(r'[^\w\- ]', '', section.lower()).replace(
                    ' ', '-')
                assert slug in anchors(f'docs/{page}'), (config, section)
            named += 1
    assert named


def test_readme_install_commands_are_what_ci_runs():
    install = ('```bash\npip install -e ".[dev]"\n'
               'python -m pytest -q -n 2 tests\n```')
    assert install in (REPO / 'README.md').read_text()
    ci = (REPO / '.ci' / 'run').read_text().splitlines()
    assert 'pip install -e ".[dev]"' in ci
    assert 'python -m pytest -q -n 2 tests' in ci


def test_scratch_folder_keeps_the_repository_clean(tmp_path):
    folder = scratch_folder(tmp_path / 'scratch')
    (folder / 'configs' / 'new.py').write_text('x = 1\n')
    assert not (REPO / 'configs' / 'new.py').exists()
    assert os.path.samefile(folder / 'configs' / 'demo', REPO / 'configs' /
                            'demo')
