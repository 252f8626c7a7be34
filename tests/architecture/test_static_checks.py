"""The house rules of STYLE.md, enforced where CI runs them: ruff's lint rules and format, and
mypy strict over every package pyproject names (engine, tui, bench)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = ("engine", "tui", "bench", "tests")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "command",
    [("ruff", "check", *SOURCES), ("ruff", "format", "--check", *SOURCES)],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff_finds_nothing(command: tuple[str, ...]) -> None:
    done = _run(*command)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(300)
def test_mypy_strict_finds_nothing(tmp_path: pathlib.Path) -> None:
    done = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert done.returncode == 0, done.stdout + done.stderr
