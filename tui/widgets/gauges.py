"""`RiskGauges`: the engine's risk gauges, one line each, coloured by level through CSS."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from textual.containers import Vertical

from tui.format import amount
from tui.state import DeskState
from tui.widgets.textline import TextLine

LEVELS = ("ok", "warning", "breach")
BAR_CELLS = 10


def _bar(ratio: Any) -> str:
    try:
        share = min(max(Decimal(str(ratio)), Decimal(0)), Decimal(1))
    except (InvalidOperation, ValueError):
        return " " * BAR_CELLS
    filled = int(share * BAR_CELLS)
    return "#" * filled + "." * (BAR_CELLS - filled)


def gauge_text(gauge: Mapping[str, Any]) -> str:
    name = str(gauge.get("name", "?")).replace("_", " ")
    level = str(gauge.get("level", "ok"))
    value, limit = amount(gauge.get("value")), amount(gauge.get("limit"))
    marker = "" if level == "ok" else f" {level.upper()}"
    return (
        f"{name:<14} [{_bar(gauge.get('ratio'))}] {value}/{limit} {gauge.get('unit', '')}{marker}"
    )


class RiskGauges(Vertical):
    """Shown only when the engine's snapshot carries gauges."""

    def __init__(self) -> None:
        super().__init__(id="risk", classes="pane")
        self.border_title = "Risk"

    def show_state(self, state: DeskState) -> None:
        gauges = state.gauges
        self.display = gauges is not None
        self.set_class(state.stale, "stale")
        self.border_subtitle = "STALE" if state.stale else ""
        if gauges is None:
            return
        lines = list(self.query(".gauge").results(TextLine))
        for index, gauge in enumerate(gauges):
            if index < len(lines):
                line = lines[index]
            else:
                line = TextLine("", classes="gauge")
                self.mount(line)
            line.show(gauge_text(gauge))
            level = str(gauge.get("level", "ok"))
            for known in LEVELS:
                line.set_class(level == known, f"level-{known}")
        for extra in lines[len(gauges) :]:
            extra.remove()
