"""The house rules of docs/ARCHITECTURE.md, read from the source: no import cycle (imports inside
functions count; `if TYPE_CHECKING:` ones do not), no module importing another's private name,
each outside library imported only in its room, and no function over 80 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "router_opt"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: Path) -> dict[str, tuple[Path, ast.Module]]:
    return {
        _module_name(path): (path, ast.parse(path.read_text(encoding="utf-8")))
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
    }


MODULES = _sources(PACKAGE)


def _runtime_imports(tree: ast.Module):
    """(ImportFrom or Import node) outside `if TYPE_CHECKING:` blocks."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in hidden:
            yield node


def _owner(name: str) -> str | None:
    """The router_opt module a dotted name lives in (a package's submodule, or the package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, (_, tree) in MODULES.items():
        for node in _runtime_imports(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("router_opt"):
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.startswith("router_opt")]
            else:
                continue
            for target in targets:
                owner = _owner(target)
                if owner and owner != name:
                    graph[name].add(owner)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root, children_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(children_of_root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
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
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("folder", ["router_opt", "tests", "benchmarks"])
def test_no_module_imports_a_private_name(folder):
    offenders = []
    for path, tree in _sources(ROOT / folder).values():
        for node in _runtime_imports(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                private_module = any(part.startswith("_") and part != "__future__" for part in node.module.split("."))
                names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if names or private_module:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {names}")
    assert offenders == []


ROOMS = {
    # outside library -> the only router_opt modules that may import it
    "pulp": {"router_opt.engine.backends"},
    "highspy": {"router_opt.engine.backends"},
    "typer": {"router_opt.cli"},
    "xlsxwriter": {"router_opt.report.xlsx"},
    "matplotlib": {"router_opt.report.charts"},
}


@pytest.mark.parametrize("library", sorted(ROOMS))
def test_outside_libraries_stay_in_their_room(library):
    users = set()
    for name, (_, tree) in MODULES.items():
        for node in _runtime_imports(tree):
            imported = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(module == library or module.startswith(library + ".") for module in imported):
                users.add(name)
    assert users <= ROOMS[library], users - ROOMS[library]


def test_only_constraint_families_name_a_row_kind():
    """A row's kind string ('capacity', 'budget', ...) is compared only inside its family's module:
    everything else asks `family_of(kind)`."""
    kinds = {"capacity", "deployment", "budget", "total_budget", "spend_share", "volume_share", "committed_spend"}
    offenders = []
    for name, (path, tree) in MODULES.items():
        if name.startswith("router_opt.constraints"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                constants = [c for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in kinds]
                mentions_kind = any("kind" in ast.unparse(side) for side in [node.left, *node.comparators])
                if constants and mentions_kind:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


def test_no_function_over_80_lines():
    """A function a newcomer can read on one screen: none in router_opt runs over 80 lines."""
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path, tree in MODULES.values()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 80
    ]
    assert long == []
