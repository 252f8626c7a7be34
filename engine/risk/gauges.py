"""Risk utilisation for the desk's gauges: each measure with its limit, ratio and level."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from engine.risk.context import RiskContext
from engine.risk.exposure import Exposure, measured
from engine.risk.limits import RiskLimits
from engine.risk.numbers import WIDE, fmt
from engine.risk.results import Level

RATIO_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Gauge:
    """One measure against its limit. BREACH means the limit is reached: nothing more of this
    kind may be added. A value that cannot be measured is None and shows as a breach, since
    the checks refuse buys while it is unknown."""

    name: str  # exposure, daily_loss, trades, positions, request_weight
    value: Decimal | None
    limit: Decimal
    ratio: Decimal | None  # value / limit cut to 4 decimals; None when unknown or no limit
    level: Level
    unit: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else fmt(self.value),
            "limit": fmt(self.limit),
            "ratio": None if self.ratio is None else fmt(self.ratio),
            "level": self.level.value,
            "unit": self.unit,
            "note": self.note,
        }


def gauge(
    name: str,
    value: Decimal | None,
    limit: Decimal,
    warning_ratio: Decimal,
    unit: str,
    note: str = "",
) -> Gauge:
    """A gauge: BREACH at or past the limit (or unknown), WARNING from `warning_ratio` of it."""
    if value is None:
        return Gauge(name, None, limit, None, Level.BREACH, unit, note)
    with localcontext(WIDE):
        ratio = None if limit <= 0 else (value / limit).quantize(RATIO_QUANTUM, ROUND_DOWN)
        if value >= limit:
            level = Level.BREACH
        elif value >= limit * warning_ratio:
            level = Level.WARNING
        else:
            level = Level.OK
    return Gauge(name, value, limit, ratio, level, unit, note)


def utilisation(
    ctx: RiskContext,
    limits: RiskLimits,
    weight_used: int,
    weight_limit: int,
    exposure: Exposure | None = None,
) -> list[Gauge]:
    """Exposure, daily loss, trades, open positions and request weight, in that order;
    `exposure` is `measured(ctx, limits)` when the caller has it already."""
    if exposure is None:
        exposure = measured(ctx, limits)
    q, warn = limits.quote_asset, limits.warning_ratio
    missing_marks = ", ".join(exposure.unknown)
    exposure_note = f"cannot be valued: {missing_marks}" if missing_marks else ""
    open_symbols = exposure.open_symbols
    return [
        gauge("exposure", exposure.total, limits.max_total_exposure, warn, q, exposure_note),
        daily_loss_gauge(exposure, limits),
        gauge("trades", Decimal(ctx.day.trades), Decimal(limits.max_trades_per_day), warn, "buys"),
        gauge(
            "positions",
            Decimal(len(open_symbols)),
            Decimal(limits.max_open_positions),
            warn,
            "positions",
            ", ".join(open_symbols),
        ),
        gauge("request_weight", Decimal(weight_used), Decimal(weight_limit), warn, "weight"),
    ]


def daily_loss_gauge(exposure: Exposure, limits: RiskLimits) -> Gauge:
    """Today's loss against the daily loss limit (the gauge the engine watches for REDUCING)."""
    with localcontext(WIDE):
        loss = exposure.daily_loss()
    loss_note = ""
    if loss is None:
        unmarked = ", ".join(exposure.loss_unknown())
        loss_note = f"cannot be valued: {unmarked}" if unmarked else "realized PnL not convertible"
    elif exposure.unpriced:
        loss_note = f"entry unknown, left out: {', '.join(exposure.unpriced)}"
    q, warn = limits.quote_asset, limits.warning_ratio
    return gauge("daily_loss", loss, limits.daily_loss_limit, warn, q, loss_note)
