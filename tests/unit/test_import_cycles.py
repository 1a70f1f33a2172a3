"""No import cycle between the project's modules, and no layer importing one it may not (docs/architecture.md,
"Who may import whom").

Every ``import`` and ``from ... import`` of every project module counts, wherever it stands (module level, inside a
function, under ``if TYPE_CHECKING``): an import inside a function only hides a cycle, it does not break it.
``from package import name`` counts as an import of ``package.name`` when that is a module, else of ``package``;
relative imports are resolved against the importing module. Tests and migrations are not walked.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".git", "tests", "node_modules", "data", "__pycache__", "migrations", ".ci"}


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file outside the skipped folders (``pkg/__init__.py`` is
    ``pkg``)."""
    modules: dict[str, Path] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = Path(folder) / name
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts:
                modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that ``name`` is or lies in (None: not a project module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {r for alias in node.names if (r := _resolve(alias.name, modules))}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base_parts = package[: len(package) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}", modules) if alias.name != "*" else None
                if target is None or target == module:
                    target = _resolve(base, modules)
                if target:
                    found.add(target)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a list of modules, the first repeated at the end) per strongly connected component of more than
    one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the first module of ``component`` (breadth-first search back to it)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return sorted(component)


LAYERS: dict[str, set[str]] = {
    "settings": set(),
    "core": set(),
    "db": {"settings"},
    "ai": {"core"},
    "reports": {"core", "ai"},
    "services": {"core", "db", "ai", "reports", "settings"},
    "api": {"services", "auth", "core", "db", "settings"},
    "auth": {"services", "db", "settings", "api"},
    "layouts": {"services", "core", "auth", "ai", "reports", "db"},
    "callbacks": {"services", "layouts", "auth", "core", "db", "settings"},
}
"""Top-level package -> the packages it may import (docs/architecture.md). ``app``, ``cli``, ``commands``, ``bench``
and ``scripts`` sit on top and may import anything."""


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """``"a.b -> c.d"`` for every import of a package its layer may not import."""
    found = []
    for module, imported in sorted(graph.items()):
        layer = module.split(".")[0]
        if layer not in LAYERS:
            continue
        for target in sorted(imported):
            other = target.split(".")[0]
            if other != layer and other not in LAYERS[layer]:
                found.append(f"{module} -> {target}")
    return found


def test_layers_import_only_what_they_may() -> None:
    violations = layer_violations(import_graph())
    assert not violations, "imports against docs/architecture.md, Who may import whom:\n" + "\n".join(violations)


def test_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_walk_sees_function_level_relative_and_from_imports(tmp_path: Path) -> None:
    """The checker itself: a cycle hidden in a function, through ``from pkg import module`` and a relative import,
    is found; the same modules without the back edge are not a cycle."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from . import c\n    return c\n")
    (package / "c.py").write_text("def g():\n    from pkg.a import x\n    return x\n")
    (tmp_path / "solo.py").write_text("import pkg.a\n")
    graph = import_graph(tmp_path)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"} and graph["pkg.c"] == {"pkg.a"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (package / "c.py").write_text("X = 1\n")
    assert find_cycles(import_graph(tmp_path)) == []


def test_layer_rule_names_an_upward_import() -> None:
    graph = {"core.kpi": {"db.models"}, "services.runs": {"core.kpi", "db.models"}, "cli": {"api.routes"}}
    assert layer_violations(graph) == ["core.kpi -> db.models"]
