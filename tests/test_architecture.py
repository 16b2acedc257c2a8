"""The package's import graph, built from the source: no cycle between modules, and every import
goes from a layer to the same or a lower one, as ``docs/README.md`` writes the layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mixtheory"

#: import cycles allowed for now, each with its reason; the test fails when one disappears, so that
#: the entry is removed with the cycle
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _targets(name: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """The modules of the package an import statement names (``from . import x`` is the submodule
    ``x`` when one exists, else the package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source (module level, functions,
    ``TYPE_CHECKING`` blocks); a name that is not a module resolves to its closest package."""
    mods = modules()
    known = set(mods)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, (path, is_package) in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(name, is_package, node, known):
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layers() -> dict[str, int]:
    """The table of ``docs/README.md`` "Layers of the package": name -> layer."""
    text = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layers of the package", 1)[1]
    table: dict[str, int] = {}
    for match in re.finditer(r"^\| (\d+) \| (.+?) \|$", section, re.M):
        for name in re.findall(r"`([\w.]+)`", match.group(2)):
            assert name not in table, f"{name} is in two layers of docs/README.md"
            table[name] = int(match.group(1))
    return table


def layer_of(module: str, table: dict[str, int]) -> int:
    """The layer of the most specific name in the table that is the module or a package above it."""
    rel = module.removeprefix("mixtheory").removeprefix(".") or "mixtheory"
    parts = rel.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in table:
            return table[".".join(parts[:k])]
    raise AssertionError(f"{module} is in no layer of docs/README.md: add it to the table")


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # function-level imports count (cli.check imports the progress bar inside a function)
    assert "mixtheory._progress" in graph["mixtheory.cli.check"]
    # `from . import mixing` in the package __init__ is the subpackage
    assert "mixtheory.mixing" in graph["mixtheory"]
    # a relative import two levels up
    assert "mixtheory.laws" in graph["mixtheory.mixing.masks"]
    # importing mixing.partners runs mixing/__init__ first
    assert "mixtheory.mixing" not in graph["mixtheory.geometry._common"]
    assert "mixtheory.mixing" in with_parent_packages(graph)["mixtheory.geometry._common"]


def with_parent_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph plus what Python runs on an import: importing ``a.b.c`` first runs the ``__init__``
    of ``a.b`` (the package's own root ``mixtheory`` and the importer's own packages left out)."""
    out = {m: set(targets) for m, targets in graph.items()}
    for m, targets in graph.items():
        for t in targets:
            parts = t.split(".")
            for k in range(2, len(parts)):
                package = ".".join(parts[:k])
                if package in graph and package != m and not m.startswith(package + "."):
                    out[m].add(package)
    return out


def test_no_import_cycle_between_modules():
    components = strongly_connected(with_parent_packages(import_graph()))
    unexpected = [sorted(c) for c in components if frozenset(c) not in KNOWN_CYCLES]
    assert not unexpected, f"import cycles: {unexpected}"
    gone = [sorted(c) for c in KNOWN_CYCLES if set(c) not in components]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def test_every_module_has_a_layer_and_imports_only_downwards():
    table = layers()
    graph = import_graph()
    upward = [
        f"{a} (layer {layer_of(a, table)}) imports {b} (layer {layer_of(b, table)})"
        for a, targets in sorted(graph.items())
        for b in sorted(targets)
        if layer_of(b, table) > layer_of(a, table)
    ]
    assert not upward, "imports from a lower layer up to a higher one:\n" + "\n".join(upward)


def test_every_name_in_the_layer_table_exists():
    known = set(modules())
    missing = [name for name in layers() if name != "mixtheory" and f"mixtheory.{name}" not in known]
    assert not missing, f"docs/README.md names modules that do not exist: {missing}"


def test_the_tensor_alias_comes_from_types_only():
    """``Tensor`` is defined in ``mixtheory._types``; no module re-exports it to another."""
    wrong = []
    for name, (path, _) in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module != "_types":
                if any(alias.name == "Tensor" for alias in node.names) and not (node.module or "").endswith(
                    "_types"
                ):
                    wrong.append(f"{name}:{node.lineno}")
    assert not wrong, f"Tensor imported from a module other than mixtheory._types: {wrong}"
