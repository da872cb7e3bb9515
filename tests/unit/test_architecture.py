"""The house's rule, checked on the code itself: every import points down, and no cycle.

domain ← projections ← adapters ← api; inside api, services ← http and cli; nothing but
tests import scripts. Read from the source with `ast`, so a new module is checked with no
list to keep.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("domain", "projections", "adapters", "api")
"""From the bottom up: a room may import the rooms before it, and itself."""
INSIDE_API = {"api.services": {"api.http", "api.cli"}, "api.http": {"api.cli"}}
"""Parts of `api` a part must not import: use cases know nothing of HTTP or the terminal."""


def _modules() -> dict[str, Path]:
    found = {}
    for room in (*ROOMS, "scripts"):
        for path in (ROOT / room).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """The project modules `name` imports (at any depth of its code)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _room(name: str) -> str:
    return name.split(".")[0]


def test_the_graph_was_read() -> None:
    assert "domain.events" in GRAPH["domain.decide"]
    assert len(GRAPH) > 80


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if _room(n) in ROOMS))
def test_every_import_points_down(name: str) -> None:
    level = ROOMS.index(_room(name))
    upward = [t for t in GRAPH[name] if _room(t) == "scripts" or ROOMS.index(_room(t)) > level]
    assert not upward, f"{name} imports a room above it: {sorted(upward)}"
    for part, forbidden in INSIDE_API.items():
        if name == part or name.startswith(part + "."):
            wrong = [t for t in GRAPH[name] if any(t.startswith(f + ".") for f in forbidden)]
            assert not wrong, f"{name} imports {sorted(wrong)}"


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
