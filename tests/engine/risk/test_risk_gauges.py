"""Risk utilisation for the gauges: value, limit, ratio and level for each measure."""

from __future__ import annotations

from risk_helpers import DAY, LIMITS, D, context, open_order, position

from engine.core.types import Side
from engine.risk import DayTotals, Gauge, Level, RiskLimits, utilisation
from engine.risk.gauges import gauge


def by_name(gauges: list[Gauge]) -> dict[str, Gauge]:
    return {g.name: g for g in gauges}


def test_every_gauge_has_its_value_limit_ratio_and_level() -> None:
    ctx = context(
        positions=[position("BTCUSDT", "0.05", "2700"), position("ETHUSDT", "1", "2000")],
        open_orders=[open_order("SOLUSDT", Side.BUY, "4", "95")],
        day=DayTotals(DAY, trades=39, realized_pnl={"USDT": D(-40)}),
    )
    gauges = utilisation(ctx, LIMITS, 1200, 6000)
    assert [g.name for g in gauges] == [
        "exposure",
        "daily_loss",
        "trades",
        "positions",
        "request_weight",
    ]
    assert by_name(gauges) == {
        # 2500 BTC + 2000 ETH + 380 resting for SOL, of 6000.
        "exposure": Gauge("exposure", D(4880), D(6000), D("0.8133"), Level.WARNING, "USDT"),
        # 200 unrealized on BTC plus 40 realized: 80% of 300.
        "daily_loss": Gauge("daily_loss", D(240), D(300), D("0.8"), Level.WARNING, "USDT"),
        "trades": Gauge("trades", D(39), D(50), D("0.78"), Level.OK, "buys"),
        "positions": Gauge(
            "positions", D(3), D(5), D("0.6"), Level.OK, "positions", "BTCUSDT, ETHUSDT, SOLUSDT"
        ),
        "request_weight": Gauge("request_weight", D(1200), D(6000), D("0.2"), Level.OK, "weight"),
    }
    assert by_name(gauges)["exposure"].to_json() == {
        "name": "exposure",
        "value": "4880",
        "limit": "6000",
        "ratio": "0.8133",
        "level": "warning",
        "unit": "USDT",
        "note": "",
    }


def test_a_gauge_at_its_limit_is_a_breach() -> None:
    ctx = context(day=DayTotals(DAY, trades=50, realized_pnl={"USDT": D(-300)}))
    gauges = by_name(utilisation(ctx, LIMITS, 6000, 6000))
    assert gauges["daily_loss"].level is Level.BREACH and gauges["daily_loss"].ratio == 1
    assert gauges["trades"].level is Level.BREACH
    assert gauges["request_weight"].level is Level.BREACH


def test_an_unknown_measure_shows_as_a_breach_with_a_note() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "ETHUSDT"}
    ctx = context(positions=[position("ETHUSDT", "1", "2000")], marks=marks)
    gauges = by_name(utilisation(ctx, LIMITS, 0, 6000))
    assert gauges["exposure"] == Gauge(
        "exposure", None, D(6000), None, Level.BREACH, "USDT", "cannot be valued: ETHUSDT"
    )
    assert gauges["daily_loss"].note == "cannot be valued: ETHUSDT"
    assert gauges["exposure"].to_json()["value"] is None
    unconvertible = context(day=DayTotals(DAY, realized_pnl={"FDUSD": D(1)}))
    assert by_name(utilisation(unconvertible, LIMITS, 0, 6000))["daily_loss"].note == (
        "realized PnL not convertible"
    )
    unpriced = context(positions=[position("ETHUSDT", "1", None)])
    assert by_name(utilisation(unpriced, LIMITS, 0, 6000))["daily_loss"].note == (
        "entry unknown, left out: ETHUSDT"
    )


def test_a_zero_limit_has_no_ratio_and_is_always_reached() -> None:
    gauges = by_name(utilisation(context(), RiskLimits(max_open_positions=0), 0, 0))
    assert (gauges["positions"].ratio, gauges["positions"].level) == (None, Level.BREACH)
    assert gauge("x", D(0), D(10), D("0.8"), "u").level is Level.OK
