"""The layers import one way (DESIGN.md, "Layout"), and no module imports itself back.

Read from the source, every import counted (a lazy one inside a function too: it is a
dependency all the same, only paid later).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = [ROOT / "app.py", *ROOT.glob("chalicelib/**/*.py"), *ROOT.glob("infra/**/*.py")]
    files += [*ROOT.glob("scripts/**/*.py"), *ROOT.glob("bench/**/*.py")]
    return {_module_name(f): f for f in files}


SOURCES = _sources()


def _imports(name: str) -> Iterator[str]:
    """The modules of ours that `name` imports (a `from package import module` names the
    module, not the package)."""
    tree = ast.parse(SOURCES[name].read_text(encoding="utf-8"))
    package = name if SOURCES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in SOURCES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in SOURCES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name)) for name in SOURCES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in GRAPH[node]:
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
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

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back() -> None:
    assert _cycles() == []


def _chalice_importers(prefix: str) -> list[str]:
    offenders = []
    for name, path in SOURCES.items():
        if name.startswith(prefix):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                modules = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(m == "chalice" or m.startswith("chalice.") for m in modules):
                    offenders.append(name)
    return offenders


@pytest.mark.parametrize(
    "layer", ["chalicelib.services", "chalicelib.domain", "chalicelib.store", "chalicelib.letters"]
)
def test_the_use_cases_and_what_they_use_know_nothing_of_chalice(layer: str) -> None:
    assert _chalice_importers(layer) == []


# What each layer may import of ours (a prefix); everything else of ours is refused.
ALLOWED = {
    "chalicelib.domain": ("chalicelib.domain",),
    "chalicelib.letters": ("chalicelib.domain", "chalicelib.letters"),
    "chalicelib.store": (
        "chalicelib.domain", "chalicelib.store", "chalicelib.aws", "chalicelib.settings",
        "chalicelib.observability",
    ),
    "chalicelib.services": (
        "chalicelib.domain", "chalicelib.store", "chalicelib.letters", "chalicelib.services",
        "chalicelib.observability", "chalicelib.settings",
    ),
}  # fmt: skip


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = {
        f"{name} → {target}"
        for name, targets in GRAPH.items()
        if name.startswith(layer)
        for target in targets
        if not target.startswith(ALLOWED[layer])
    }
    assert wrong == set()


def test_tools_outside_the_bundle_call_use_cases_never_views() -> None:
    wrong = {
        f"{name} → {target}"
        for name, targets in GRAPH.items()
        if name.startswith(("infra", "scripts", "bench"))
        for target in targets
        if target.startswith("chalicelib.api")
    }
    assert wrong == set()


def test_the_graph_is_read() -> None:
    """The checks above would pass on an empty graph: this one cannot."""
    assert "chalicelib.services.filing" in GRAPH["chalicelib.api.requests"]
    assert "chalicelib.domain.catalog" in GRAPH["chalicelib.services.serving"]
