"""The shape of the code, kept by tests: data flows one way, no module imports itself back in a circle, and no
module grows past what a newcomer can read in one sitting (400 lines). docs/architecture.md draws the same layers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "ingest", "retrieval", "llm")
MAX_LINES = 400
# Who may import whom: ingest makes chunks, retrieval finds them, llm turns evidence into answers, app serves.
LOWER_LAYERS_ONLY = {
    "ingest": {"retrieval"},
    "retrieval": set(),
    "llm": {"retrieval", "ingest"},
    "app": {"ingest", "retrieval", "llm"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """Every kura module this file imports, at the top or inside a function (a lazy import is still a dependency)."""
    result = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                result.add(target)
    return result


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, name, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a circle of imports.
    A package's __init__ re-exporting its own modules is not a circle: edges into a package's own __init__ are
    left out, since `from ingest import X` inside ingest is forbidden by the next test anyway."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_in_a_circle():
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph().items()}
    assert cycles(edges) == []


def test_a_package_never_imports_its_own_front_door():
    """Inside ingest/, import ingest.manifest, not `from ingest import Manifest`: the package's __init__ is for
    the layers above, and going through it from inside is how circles start."""
    offenders = [
        (name, target) for name, targets in graph().items() for target in targets if name.startswith(target + ".")
    ]
    assert offenders == []


def test_data_flows_one_way_between_the_layers():
    offenders = [
        (name, target)
        for name, targets in graph().items()
        for target in targets
        if target.split(".")[0] != name.split(".")[0]
        and target.split(".")[0] not in LOWER_LAYERS_ONLY[name.split(".")[0]]
    ]
    assert offenders == []


def test_no_module_is_longer_than_a_newcomer_reads_in_one_sitting():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
