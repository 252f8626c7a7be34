"""The result protocol every benchmark follows: a module's `figures(short)` returns `Figure`s.

`python -m bench` runs each benchmark module in its own process (`bench/child.py`), which calls
`figures(short: bool) -> list[Figure]` and hands the figures back as one JSON line; the runner
puts them in one table (`bench/table.py`).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Aim:
    """A figure's goal: `value <op> limit` (in the figure's unit)."""

    op: Literal["<=", ">="]
    limit: float

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def text(self) -> str:
        return f"{self.op} {self.limit:g}"


@dataclass(frozen=True)
class Figure:
    """One measured figure: its median (or single value), the spread and how it was measured.

    `key` is unique within its benchmark; `anchor` names the key of the figure (same benchmark,
    same run) this one is compared to, reported as the ratio value / anchor.
    """

    key: str
    label: str
    value: float
    unit: str
    method: str
    low: float | None = None
    high: float | None = None
    spread: str = ""  # what low-high is: "min-max, 5 runs", "p50-p99, 180 orders"...
    aim: Aim | None = None
    anchor: str | None = None

    def verdict(self) -> str:
        if self.aim is None:
            return "-"
        return "meets" if self.aim.met_by(self.value) else "MISSES"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        aim = data.get("aim")
        return cls(**{**data, "aim": None if aim is None else Aim(**aim)})


def from_samples(
    key: str,
    label: str,
    samples: Sequence[float],
    unit: str,
    method: str,
    *,
    aim: Aim | None = None,
    anchor: str | None = None,
) -> Figure:
    """A figure from repeated runs: the median, and min-max over the runs as its spread."""
    if not samples:
        raise ValueError(f"{key}: no samples")
    return Figure(
        key=key,
        label=label,
        value=statistics.median(samples),
        unit=unit,
        method=method,
        low=min(samples),
        high=max(samples),
        spread=f"min-max, {len(samples)} run{'s' if len(samples) != 1 else ''}",
        aim=aim,
        anchor=anchor,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 < q < 1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]
