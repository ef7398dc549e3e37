"""The package's layers point down only, and no modules import each other
in a circle.

From the bottom: ``utils`` (and ``compat``) <- ``structures`` <-
``datasets``, ``models``, ``engine`` <- ``evaluation``, ``pseudo_labels``
<- ``refinements`` <- ``pipeline`` <- ``apis`` <- ``visualization``. A
module may import its own layer and those below; the imports are read
from the source (every ``import`` statement, also inside functions), and
``mmadv/__init__.py``, which imports every part to register it, is left
out.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / 'mmadv'
LAYERS = [
    ('utils', 'compat', 'version'),
    ('structures', ),
    ('datasets', 'models', 'engine'),
    ('evaluation', 'pseudo_labels'),
    ('refinements', ),
    ('pipeline', ),
    ('benchmarks', ),
    ('apis', ),
    ('visualization', ),
]
LEVEL = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_modules(source: str, name: str, is_package: bool) -> set:
    """The ``mmadv`` modules that module ``name`` (its ``source``) imports,
    by absolute name (a ``from x import y`` counts as ``x.y`` when that is
    a module)."""
    package = name if is_package else name.rpartition('.')[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith('mmadv')}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = package.split('.')
                parent = parent[:len(parent) - node.level + 1]
                base = '.'.join(parent + ([base] if base else []))
            if not base.startswith('mmadv'):
                continue
            for alias in node.names:
                sub = f'{base}.{alias.name}'
                found.add(sub if sub in MODULES else base)
    # the package itself: imported only to register every part
    return {m for m in found if m in MODULES and m != 'mmadv'}


MODULES = {module_name(p): p for p in PACKAGE.rglob('*.py')}
GRAPH = {
    name: imported_modules(path.read_text(), name,
                           path.name == '__init__.py')
    for name, path in MODULES.items() if name != 'mmadv'
}


def part(module: str) -> str:
    return module.split('.')[1]


def upward_imports(module: str, imports: set) -> list:
    return sorted(m for m in imports
                  if LEVEL[part(m)] > LEVEL[part(module)])


def test_every_part_has_a_layer():
    assert {part(m) for m in GRAPH} <= set(LEVEL), \
        sorted({part(m) for m in GRAPH} - set(LEVEL))


@pytest.mark.parametrize('module', sorted(GRAPH))
def test_imports_point_down(module):
    upward = upward_imports(module, GRAPH[module])
    assert not upward, f'{module} imports {upward}, a layer above it'


def cycle_from(start: str, graph: dict):
    """A list of modules from ``start`` back to it, or None."""
    path, on_path, done = [], set(), set()

    def visit(node):
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return path + [start]
            if nxt not in on_path and nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    return visit(start)


def test_no_modules_import_each_other_in_a_circle():
    # a package's __init__ imports its modules, which import their
    # siblings through the package: those are not circles
    graph = {m: {n for n in deps if not MODULES[n].name == '__init__.py'}
             for m, deps in GRAPH.items()}
    cycles = [c for c in map(lambda m: cycle_from(m, graph), sorted(graph))
              if c]
    assert not cycles, ' -> '.join(cycles[0])


def test_no_parts_import_each_other_in_a_circle():
    graph = {}
    for module, deps in GRAPH.items():
        graph.setdefault(part(module), set()).update(
            part(d) for d in deps if part(d) != part(module))
    cycles = [c for c in map(lambda p: cycle_from(p, graph), sorted(graph))
              if c]
    assert not cycles, ' -> '.join(cycles[0])


def test_the_reader_sees_every_kind_of_import():
    """Relative, absolute and function-level imports, a module imported
    from its package; an upward one is found."""
    source = ('from ..apis import refinement_tool\n'
              'from . import labels\n'
              'def f():\n    import mmadv.apis.data_check\n'
              'from ..utils.errors import InputError\n')
    imports = imported_modules(source, 'mmadv.structures.fake', False)
    assert imports == {'mmadv.apis.refinement_tool', 'mmadv.apis.data_check',
                       'mmadv.structures.labels', 'mmadv.utils.errors'}
    assert upward_imports('mmadv.structures.fake', imports) == [
        'mmadv.apis.data_check', 'mmadv.apis.refinement_tool']
