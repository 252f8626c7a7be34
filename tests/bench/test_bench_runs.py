"""`python -m bench`: the runner, the table, and that the benchmarks still run (no timings)."""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys
from datetime import UTC, datetime

from bench.__main__ import ORDER, available
from bench.figure import Aim, Figure, from_samples, percentile
from bench.table import COLUMNS, BenchResult, markdown, plain

ROOT = pathlib.Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
INFO = {"cores": "2", "memory": "4.0 GiB", "cpu": "Test CPU", "python": "3.11.7", "system": "X"}
# The cheapest benchmarks, run for real in short mode: the runner end to end on three kinds
# (an exchange core, an engine restart on the embedded exchange, a headless desk).
SMOKE = ("sim_persist", "growth_restart", "growth_desk")


def test_figures_from_samples_and_verdicts() -> None:
    figure = from_samples("t", "time", [3.0, 1.0, 2.0], "s", "how", aim=Aim("<=", 2.0))
    assert (figure.value, figure.low, figure.high) == (2.0, 1.0, 3.0)
    assert figure.spread == "min-max, 3 runs"
    assert figure.verdict() == "meets"
    assert Figure("r", "rate", 9.0, "/s", "how", aim=Aim(">=", 10.0)).verdict() == "MISSES"
    assert Figure("x", "x", 1.0, "u", "how").verdict() == "-"
    assert Figure.from_json(json.loads(json.dumps(figure.to_json()))) == figure
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0


def test_table_rows_ratio_and_failure() -> None:
    results = [
        BenchResult(
            "demo",
            [
                Figure("bare", "bare loop", 4.0, "ms", "anchor"),
                Figure(
                    "ours",
                    "our path",
                    5.0,
                    "ms",
                    "the path",
                    low=4.5,
                    high=6.0,
                    spread="p50-max",
                    aim=Aim("<=", 4.0),
                    anchor="bare",
                ),
            ],
            seconds=3.0,
            peak_rss_mb=50.0,
        ),
        BenchResult("broken", seconds=1.0, error="RuntimeError: boom"),
    ]
    text = plain(results, WHEN, INFO, short=True)
    lines = text.splitlines()
    assert lines[0] == "Benchmarks, 2026-01-05 12:00 UTC, short mode (CI smoke run: few repeats)"
    assert lines[1] == "Machine: 2 cores, 4.0 GiB memory, Test CPU, Python 3.11.7, X"
    assert "vary" in lines[2]
    ours = next(line for line in lines if line.startswith("demo: our path"))
    assert ours.split("  ")[0] == "demo: our path"
    assert "4.50-6.00 (p50-max)" in ours
    assert "MISSES" in ours
    assert "1.25x bare" in ours
    assert any(line.startswith("broken: FAILED") and "RuntimeError: boom" in line for line in lines)
    assert lines[-1] == (
        "Runs (one process each): demo 3 s, peak 50 MB; broken 1 s, peak 0 MB (failed)."
    )
    table = markdown(results, WHEN, INFO, short=False)
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows[0] == "| " + " | ".join(COLUMNS) + " |"
    assert rows[2] == ("| demo: bare loop | 4.00 |  | ms |  | - |  | anchor |")
    assert all(row.count(" | ") == len(COLUMNS) - 1 for row in rows[2:])


def test_every_benchmark_follows_the_protocol() -> None:
    names = available()
    present = [p.stem for p in (ROOT / "bench").glob("*.py") if p.stem in ORDER]
    assert sorted(names[: len(present)]) == sorted(present)
    for name in SMOKE:
        assert name in names


def test_short_mode_runs_and_prints_a_table(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--short", "--markdown", "--json", str(out),
         "--only", *SMOKE],
        cwd=ROOT, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(out.read_text())
    assert [r["name"] for r in data["results"]] == list(SMOKE)
    for result in data["results"]:
        assert result["error"] is None
        assert result["figures"]
        for figure in result["figures"]:
            assert math.isfinite(figure["value"]), figure
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    figures = sum(len(r["figures"]) for r in data["results"])
    assert len(rows) == 1 + figures
    assert all(row.count(" | ") == len(COLUMNS) - 1 for row in rows)
