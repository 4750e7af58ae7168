"""The package's layout rules, read from its source: no import cycle (lazy and type-only imports
included), IPython and ipywidgets only in ``p44_magic/notebook/``, no plotting library imported
at module level, lower layers never importing upper ones, no module over 400 lines, no function
over complexity 10, and the public names pinned."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import p44_magic

PACKAGE = Path(p44_magic.__file__).resolve().parent
NOTEBOOK_ONLY = ("IPython", "ipywidgets")
PLOTTING = ("matplotlib", "plotly", "folium", "seaborn", "altair", "bokeh", "ipyleaflet")
#: A module may import only modules of its own rank or lower (unlisted modules: rank 0).
RANKS = {
    "p44_magic.session": 1,
    "p44_magic.replay": 1,
    "p44_magic.calls": 2,
    "p44_magic.bulk": 3,
    "p44_magic.client": 4,
    "p44_magic.client_each": 4,
    "p44_magic.client_jobs": 4,
    "p44_magic.sessions": 5,
    "p44_magic.history": 5,
    "p44_magic.notebook": 6,
    "p44_magic": 7,
}
PUBLIC = [
    "ENDPOINTS",
    "EachResult",
    "Endpoint",
    "Exchange",
    "HttpRequest",
    "JobProgress",
    "P44AuthError",
    "P44Client",
    "P44ConnectionError",
    "P44Error",
    "P44HTTPError",
    "P44Interrupted",
    "P44Job",
    "P44PagingError",
    "P44TimeoutError",
    "P44UsageError",
    "P44Warning",
    "Result",
    "Secret",
    "ServerMessage",
    "TokenHolder",
    "TrackingTables",
    "find_endpoint",
    "history",
    "load_ipython_extension",
    "parse_request",
    "save",
    "session",
    "sessions",
    "to_frame",
    "tracking_tables",
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> list[tuple[str, bool]]:
    """Every module ``name`` imports (absolute names), and whether at module level (outside any
    function); imports under ``if TYPE_CHECKING`` and inside functions count too."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, package)
                # `from . import settings` imports the module p44_magic.settings, not the
                # package's __init__ (a parent package is always loaded already)
                submodules = [f"{base}.{a.name}" for a in child.names]
                if all(name in MODULES for name in submodules):
                    found.extend((name, top) for name in submodules)
                else:
                    found.append((base, top))
            visit(child, inner)

    visit(tree, True)
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def ours(imported: str) -> str | None:
    """The package module an import names (``p44_magic.frames.normalize``), or None."""
    while imported and imported not in MODULES:
        imported = imported.rpartition(".")[0]
    return imported or None


def graph() -> dict[str, set[str]]:
    return {
        name: {target for imported, _ in imports_of(name) if (target := ours(imported))} - {name}
        for name in MODULES
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def rank(name: str) -> int:
    """The rank of a module: its own, else its folder's (the package root only for itself)."""
    if name in RANKS:
        return RANKS[name]
    while "." in (name := name.rpartition(".")[0]):
        if name in RANKS:
            return RANKS[name]
    return 0


def test_the_package_has_no_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_notebook_layer_imports_ipython_or_ipywidgets():
    outside = [
        (name, imported)
        for name in MODULES
        if not name.startswith("p44_magic.notebook")
        for imported, _ in imports_of(name)
        if imported.split(".")[0] in NOTEBOOK_ONLY
    ]
    assert outside == []
    inside = {i.split(".")[0] for n in MODULES if "notebook" in n for i, _ in imports_of(n)}
    assert set(NOTEBOOK_ONLY) <= inside  # the rule reads real imports


def test_no_plotting_library_is_imported_at_module_level():
    assert [
        (name, imported)
        for name in MODULES
        for imported, top in imports_of(name)
        if top and imported.split(".")[0] in PLOTTING
    ] == []


def test_lower_layers_never_import_upper_ones():
    upward = [
        (name, target)
        for name, targets in graph().items()
        for target in targets
        if rank(target) > rank(name)
    ]
    assert upward == []


def test_the_demo_stands_alone_and_frames_know_no_http():
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("p44_magic.demo"):
            assert all(t.startswith("p44_magic.demo") for t in targets), name
        if name.startswith("p44_magic.frames"):
            assert all(t.startswith("p44_magic.frames") or rank(t) == 0 for t in targets), name
            assert not {"httpx", "httpcore"} & {i.split(".")[0] for i, _ in imports_of(name)}


def test_no_module_is_over_400_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def test_no_function_is_over_complexity_10():
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "C901", "--no-cache", str(PACKAGE)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


def test_the_public_names_are_sorted_pinned_and_importable():
    assert p44_magic.__all__ == sorted(p44_magic.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(p44_magic, name) is not None


def test_importing_the_core_loads_no_notebook_module():
    # A fresh interpreter: importing p44_magic (and its client) loads neither IPython nor the
    # notebook layer; the notebook modules are there for %load_ext.
    code = (
        "import sys, p44_magic, p44_magic.client, p44_magic.frames;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('IPython', 'ipywidgets')"
        " or m.startswith('p44_magic.notebook')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
