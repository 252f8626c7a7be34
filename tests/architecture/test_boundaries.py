"""The dependency arrows of DESIGN.md: engine/ never imports the desk, the sim never the engine."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imported_modules(package_dir: pathlib.Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path}: {name}"
        for path, names in _imported_modules(ROOT / package).items()
        for name in names
        if name.split(".")[0] in forbidden or any(name.startswith(f + ".") for f in forbidden)
    )


def test_engine_never_imports_the_desk() -> None:
    assert _offenders("engine", ("textual", "rich", "tui")) == []


def test_sim_depends_on_nothing_of_the_engine() -> None:
    offenders = [o for o in _offenders("engine/sim", ("engine",)) if ": engine.sim" not in o]
    assert offenders == []


def test_only_the_venue_adapter_imports_python_binance() -> None:
    offenders = [o for o in _offenders("engine", ("binance",)) if not o.startswith("engine/venue/")]
    assert offenders == []


def test_importing_the_engine_loads_no_ui_module() -> None:
    code = (
        "import sys, pkgutil, importlib, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('textual', 'rich', 'tui')]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
