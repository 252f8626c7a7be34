"""`RiskGauges`: the engine's risk gauges and the circuit breaker, one line each, by level."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tui.format import amount
from tui.state import DeskState
from tui.widgets.borders import show_borders
from tui.widgets.levels import LeveledLines

BAR_CELLS = 10
# The engine's gauge names in the desk's words.
LABELS = {
    "daily_loss": "daily loss",
    "trades": "trades today",
    "positions": "open positions",
    "request_weight": "rate budget",
}
LABEL_WIDTH = 16


def _bar(ratio: Any) -> str:
    try:
        share = min(max(Decimal(str(ratio)), Decimal(0)), Decimal(1))
    except (InvalidOperation, ValueError):
        return " " * BAR_CELLS
    filled = int(share * BAR_CELLS)
    return "#" * filled + "." * (BAR_CELLS - filled)


def gauge_text(gauge: Mapping[str, Any]) -> str:
    name = str(gauge.get("name", "?"))
    label = LABELS.get(name, name.replace("_", " "))
    level = str(gauge.get("level", "ok"))
    value, limit = amount(gauge.get("value")), amount(gauge.get("limit"))
    marker = "" if level == "ok" else f" {level.upper()}"
    unit = gauge.get("unit", "")
    return f"{label:<{LABEL_WIDTH}}[{_bar(gauge.get('ratio'))}] {value}/{limit} {unit}{marker}"


def breaker_line(breaker: Mapping[str, Any]) -> tuple[str, str]:
    """The circuit breaker as a gauge: venue failures in a row against the threshold."""
    state = str(breaker.get("state") or "CLOSED")
    errors, threshold = int(breaker.get("consecutive_errors") or 0), breaker.get("threshold")
    ratio = Decimal(errors) / Decimal(threshold) if threshold else Decimal(0)
    level = (
        "breach" if state == "OPEN" else "ok" if state == "CLOSED" and errors == 0 else "warning"
    )
    text = f"{'circuit breaker':<{LABEL_WIDTH}}[{_bar(ratio)}] {errors}/{threshold} failures"
    return (text if state == "CLOSED" else f"{text} {state.replace('_', ' ')}"), level


class RiskGauges(LeveledLines):
    """Shown only when the engine's snapshot carries gauges."""

    def __init__(self) -> None:
        super().__init__(id="risk", classes="pane")
        self.border_title = "Risk"

    def show_state(self, state: DeskState) -> None:
        gauges = state.gauges
        self.display = gauges is not None
        self.set_class(state.stale, "stale")
        show_borders(self, subtitle="STALE" if state.stale else "")
        if gauges is None:
            return
        lines = [(gauge_text(g), str(g.get("level", "ok"))) for g in gauges]
        breaker = (state.snapshot or {}).get("circuit_breaker")
        if isinstance(breaker, Mapping):
            lines.append(breaker_line(breaker))
        self.show_lines(lines)
