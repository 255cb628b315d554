"""The house rules, checked on the source: imports point one way, and modules and functions stay small.

Every module under evaluation/ is parsed with ``ast``; every ``import`` of an evaluation module counts, also the ones
inside functions (a deferred import is still a dependency). The layers, top to bottom: cli -> commands -> runner ->
[sweep] -> task_eval -> data / retrieval (encode -> shards -> search) -> scoring -> results.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evaluation"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """The evaluation modules ``name`` imports anywhere in its source (``from evaluation.x import y`` is
    ``evaluation.x.y`` when that is a module, else ``evaluation.x``)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                       for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}  # `python -m` re-imports itself: no edge
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, colouring modules on the stack)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_checker_sees_real_imports_and_cycles():
    assert "evaluation.errors" in GRAPH["evaluation.retrieval"]
    assert "evaluation.sweep.driver" in GRAPH["evaluation.runner"]  # a package's module through `from ... import`
    assert "evaluation.sweep.shard_job" in GRAPH["evaluation.sweep.worker"]  # imported inside a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH) or [])


def _importers(package: str) -> set[str]:
    return {m for m, deps in GRAPH.items() if any(d == package or d.startswith(package + ".") for d in deps)}


def test_sweep_is_imported_only_by_the_runner_and_its_worker_command():
    allowed = {"evaluation.runner", "evaluation.cli"}  # cli: `me5-eval worker` is the sweep worker's own command
    outside = {m for m in _importers("evaluation.sweep") if not m.startswith("evaluation.sweep")} - allowed
    assert not outside
    assert {d for d in GRAPH["evaluation.cli"] if d.startswith("evaluation.sweep")} <= {"evaluation.sweep.worker"}


def test_commands_are_imported_only_by_the_cli():
    outside = {m for m in _importers("evaluation.commands") if not m.startswith("evaluation.commands")}
    assert outside <= {"evaluation.cli"}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_over_400_lines():
    assert {name: _lines(path) for name, path in MODULES.items() if _lines(path) > MAX_MODULE_LINES} == {}


def _long_functions(name: str) -> list[str]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    return [f"{name}.{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_over_60_lines():
    assert [f for name in sorted(MODULES) for f in _long_functions(name)] == []
