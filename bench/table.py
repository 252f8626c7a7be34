"""The benchmark table: a header naming the date and the machine, then one row per figure."""

from __future__ import annotations

import os
import pathlib
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bench.figure import Figure

COLUMNS = ("figure", "median", "spread", "unit", "goal", "verdict", "vs anchor", "method")
VARY_NOTE = (
    "Figures on a shared or busy machine vary from run to run; compare ratios measured in the "
    "same run rather than absolute times across machines."
)


@dataclass(frozen=True)
class BenchResult:
    """What one benchmark's process handed back (see bench/child.py)."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    error: str | None = None


def machine() -> dict[str, str]:
    """Cores, memory, CPU model and Python of this machine, as text."""
    model = "unknown CPU"
    memory = "unknown"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    meminfo = pathlib.Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def number(value: float | None) -> str:
    """A figure's value with as many digits as matter."""
    if value is None:
        return ""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio_text(ratio: float) -> str:
    """`2.28x`, or `1/8,800x` when the figure is a small fraction of its anchor."""
    if 0 < abs(ratio) < 0.01:
        return f"1/{round(1 / ratio):,}x"
    return f"{number(ratio)}x"


def rows(results: Sequence[BenchResult]) -> list[tuple[str, ...]]:
    """One row per figure (columns as COLUMNS); a failed benchmark gets one row saying so."""
    table: list[tuple[str, ...]] = []
    for result in results:
        by_key = {figure.key: figure for figure in result.figures}
        if result.error is not None:
            table.append((f"{result.name}: FAILED", "", "", "", "", "", "", result.error))
        for figure in result.figures:
            spread = ""
            if figure.low is not None and figure.high is not None:
                spread = f"{number(figure.low)}-{number(figure.high)} ({figure.spread})"
            ratio = ""
            anchor = by_key.get(figure.anchor) if figure.anchor else None
            if anchor is not None and anchor.value:
                ratio = f"{ratio_text(figure.value / anchor.value)} {anchor.key}"
            table.append((
                f"{result.name}: {figure.label}",
                number(figure.value),
                spread,
                figure.unit,
                figure.aim.text() if figure.aim else "",
                figure.verdict(),
                ratio,
                figure.method,
            ))  # fmt: skip
    return table


def header(when: datetime, info: dict[str, str], short: bool) -> list[str]:
    mode = "short mode (CI smoke run: few repeats)" if short else "full mode"
    return [
        f"Benchmarks, {when:%Y-%m-%d %H:%M} UTC, {mode}",
        f"Machine: {info['cores']} cores, {info['memory']} memory, {info['cpu']}, "
        f"Python {info['python']}, {info['system']}",
        VARY_NOTE,
    ]


def runs_footer(results: Sequence[BenchResult]) -> list[str]:
    """Each benchmark's own process: its wall time and peak resident memory."""
    parts = [
        f"{r.name} {r.seconds:.0f} s, peak {r.peak_rss_mb:.0f} MB"
        + ("" if r.error is None else " (failed)")
        for r in results
    ]
    return ["Runs (one process each): " + "; ".join(parts) + "."]


def plain(results: Sequence[BenchResult], when: datetime, info: dict[str, str], short: bool) -> str:
    body = [COLUMNS, *rows(results)]
    widths = [max(len(row[i]) for row in body) for i in range(len(COLUMNS) - 1)]
    lines = [*header(when, info, short), ""]
    for index, row in enumerate(body):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ------")
    return "\n".join([*lines, "", *runs_footer(results)])


def markdown(
    results: Sequence[BenchResult], when: datetime, info: dict[str, str], short: bool
) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [line + "  " for line in header(when, info, short)]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(results)]
    return "\n".join([*lines, "", *runs_footer(results)])
