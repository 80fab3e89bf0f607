"""Imports flow one way through the package's layers (DESIGN §5), and the API stays light.

The layer graph is read from the source with ``ast`` (nothing is imported), and counts every
import: at module top, inside functions (lazy) and under ``TYPE_CHECKING`` alike, since each
ties one layer to another all the same.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mixdown"
ROOT = "__init__"  # the package's own __init__.py

#: Lowest first. A module may import from layers strictly below its own; modules of one
#: layer stay independent of each other. A unit is a subpackage or a top-level module.
LAYERS: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({ROOT, "errors"}),
        "`import mixdown` loads nothing; errors is the one error tree every layer raises",
    ),
    (
        frozenset({"settings", "domain"}),
        "settings are read once and passed down; domain is frozen values that do no I/O",
    ),
    (
        frozenset({"planning", "synth"}),
        "planning is pure (recording, params, probes -> plan); synth makes media of domain values",
    ),
    (
        frozenset({"tiw"}),
        "TIW's types declared once: checked at the API, read into domain values, written back",
    ),
    (
        frozenset({"render", "store", "storage", "input_files", "ingest"}),
        "render runs plans through ffmpeg; store saves domain and plan shapes; storage holds "
        "files; input_files reads the manifest and params files that tiw reads; ingest admits "
        "and records RTMP pushes",
    ),
    (
        frozenset({"callbacks", "generation"}),
        "callbacks deliver what the store queued; generation drives one plan through render",
    ),
    (
        frozenset({"jobs", "demo"}),
        "jobs run imports and generations over store, storage, callbacks; demo runs one generation",
    ),
    (
        frozenset({"api"}),
        "the TencentCloud-API-3.0 protocol over the store; what it needs of the process, it types",
    ),
    (
        frozenset({"console"}),
        "the web console: pages over the store, acting through the API's own actions",
    ),
    (
        frozenset({"service"}),
        "process wiring: a data folder, the jobs, the dispatcher and the API app in one process",
    ),
    (
        frozenset({"cli"}),
        "the command line: runs generations and registers the service's commands",
    ),
)


def _layer_of() -> dict[str, int]:
    return {unit: rank for rank, (units, _) in enumerate(LAYERS) for unit in units}


def _unit(path: Path) -> str:
    """The subpackage or top-level module a file of the package belongs to."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0] if len(parts) > 1 or parts[0] != ROOT else ROOT


def _imported(tree: ast.AST, package: tuple[str, ...]) -> list[tuple[str, int]]:
    """Every ``mixdown`` module ``tree`` imports, with the line; relative imports resolved
    against ``package`` (the dotted package the file is in)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *([node.module] if node.module else [])))
            if module == "mixdown":  # `from mixdown import settings` names the units
                found += [(f"mixdown.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((module, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] == "mixdown"]


def _edges() -> list[tuple[str, str, str]]:
    """(importing unit, imported unit, file:line) for each import between two units."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        package = ("mixdown", *rel.parent.parts)
        source = _unit(path)
        for name, line in _imported(ast.parse(path.read_text(encoding="utf-8")), package):
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else ROOT
            if target != source:
                edges.append((source, target, f"{rel}:{line}"))
    return edges


def test_importing_the_api_loads_none_of_pyav_numpy_or_pillow() -> None:
    code = (
        "import json, sys\n"
        "import mixdown.api.app, mixdown.api.registry\n"
        "print(json.dumps([m for m in ('av', 'numpy', 'PIL') if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == []


def test_every_unit_of_the_package_has_exactly_one_layer() -> None:
    placed = [unit for units, _ in LAYERS for unit in units]
    assert len(placed) == len(set(placed))
    units = {_unit(path) for path in PACKAGE.rglob("*.py")}
    assert units - set(placed) == set(), "add the new unit to LAYERS, with its reason"
    assert set(placed) - units == set(), "a unit in LAYERS no longer exists"


def test_imports_point_only_down_the_layers() -> None:
    layer = _layer_of()
    wrong = [
        f"{where}: {source} (layer {layer[source]}) imports {target} (layer {layer[target]})"
        for source, target, where in _edges()
        if layer[target] >= layer[source]
    ]
    assert wrong == []


def test_the_import_scan_sees_lazy_relative_and_package_imports() -> None:
    tree = ast.parse(
        "from . import faults\n"
        "from ..store.models import App\n"
        "def later() -> None:\n"
        "    from mixdown import settings\n"
        "    import mixdown.generation\n"
    )
    assert _imported(tree, ("mixdown", "api")) == [
        ("mixdown.api", 1),
        ("mixdown.store.models", 2),
        ("mixdown.settings", 4),
        ("mixdown.generation", 5),
    ]
