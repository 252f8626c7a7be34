"""Position sizing from a stop: exact quantities, caps with their reasons, steps, refusals."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from risk_helpers import LIMITS, RULES, D, symbol_rules

from engine.core.rules import SymbolRules
from engine.risk import RiskLimits, SizingResult, size_from_stop

BTC, SOL = RULES["BTCUSDT"], RULES["SOLUSDT"]


def size(
    equity: str,
    risk: str,
    entry: str,
    stop: str,
    rules: SymbolRules = BTC,
    limits: RiskLimits = LIMITS,
    **kw: bool,
) -> SizingResult:
    return size_from_stop(D(equity), D(risk), D(entry), D(stop), rules, limits, **kw)


def test_the_quantity_risks_the_asked_share_of_equity() -> None:
    result = size("10000", "0.01", "50000", "45000")
    assert result == SizingResult(
        qty=D("0.02000"),
        risk_amount=D("100.00"),
        stop_distance=D(5000),
        raw_qty=D("0.02"),
        notional=D("1000.00000"),
        risk_at_stop=D("100.00000"),
    )
    assert result.ok and result.capped_by is None and result.cap_reason is None


def test_the_quantity_is_floored_to_the_step() -> None:
    result = size("1000", "0.002", "100", "97", SOL)
    # 2 / 3 = 0.666... SOL, floored to the 0.001 step: the loss at the stop stays under 2.
    assert (result.qty, result.risk_at_stop) == (D("0.666"), D("1.998"))
    assert result.raw_qty == D("0.666666666666666666666666666666666666666666666666666666666666")


def test_the_order_value_limit_caps_the_quantity() -> None:
    result = size("10000", "0.01", "50000", "49000")
    assert (result.qty, result.raw_qty, result.capped_by) == (D("0.04000"), D("0.1"), "ORDER_VALUE")
    assert result.cap_reason == "capped at 0.04 by the maximum order value 2000 USDT at entry 50000"
    assert result.risk_at_stop == D(40)


def test_the_position_share_caps_the_quantity() -> None:
    result = size("4000", "0.05", "50000", "45000")
    assert (result.qty, result.capped_by) == (D("0.02000"), "POSITION_SHARE")
    assert result.cap_reason == (
        "capped at 0.02 by the maximum position share 0.25 of equity 4000 USDT at entry 50000"
    )


def test_the_position_value_caps_the_quantity() -> None:
    limits = RiskLimits(max_order_value=D(5000), max_position_value=D(3000))
    result = size("100000", "0.01", "50000", "49000", limits=limits)
    assert (result.qty, result.capped_by) == (D("0.06000"), "POSITION_VALUE")


def test_the_symbol_filters_cap_the_quantity() -> None:
    small_lot = symbol_rules("BTCUSDT", "BTC", max_qty="0.01")
    lot = size("10000", "0.01", "50000", "45000", small_lot)
    assert (lot.qty, lot.capped_by) == (D("0.01000"), "LOT_SIZE")
    assert lot.cap_reason == "capped at 0.01 by LOT_SIZE maxQty 0.01 at entry 50000"
    small_notional = symbol_rules("BTCUSDT", "BTC", max_notional="1500")
    notional = size("10000", "0.01", "50000", "49000", small_notional)
    assert (notional.qty, notional.capped_by) == (D("0.03000"), "NOTIONAL")
    # NOTIONAL's maximum does not apply to MARKET orders here; MARKET_LOT_SIZE does.
    small_market = symbol_rules("BTCUSDT", "BTC", market_max_qty="0.015")
    market = size("10000", "0.01", "50000", "45000", small_market, market=True)
    assert (market.qty, market.capped_by) == (D("0.01500"), "MARKET_LOT_SIZE")
    unaffected = size("10000", "0.01", "50000", "45000", small_notional, market=True)
    assert unaffected.capped_by is None


def test_a_stop_on_the_wrong_side_is_refused() -> None:
    for stop in ("51000", "50000"):
        result = size("10000", "0.01", "50000", stop)
        assert result.qty == 0 and not result.ok
        assert result.refusal == (
            f"the stop {stop} is not below the entry 50000: a long position's stop must be below "
            "its entry"
        )


def test_nonsense_inputs_are_refused() -> None:
    assert size("10000", "0.01", "50000", "0").refusal == (
        "entry 50000 and stop 0 must both be positive"
    )
    assert size("0", "0.01", "50000", "45000").refusal == "nothing to risk: equity 0 x risk 0.01"


def test_a_size_too_small_to_place_is_refused() -> None:
    below_min_value = size("1000", "0.0005", "50000", "45000")
    assert below_min_value.refusal == (
        "the size 0.0001 is worth 5 USDT, below the minimum order value 10 USDT"
    )
    assert below_min_value.raw_qty == D("0.0001")
    below_notional = size("1000", "0.0005", "50000", "10000")
    assert below_notional.refusal == "the size 0.00001 is worth 0.5, below NOTIONAL minNotional 5"
    zero = size("100", "0.0001", "100", "50", SOL)
    assert zero.refusal == "the size rounds down to 0 with step 0.001"
    assert BTC.lot_size is not None
    big_min = replace(BTC, lot_size=replace(BTC.lot_size, min_qty=D("0.001")))
    assert size("1000", "0.0025", "50000", "45000", big_min).refusal == (
        "the size 0.0005 is below LOT_SIZE minQty 0.001"
    )


def test_sizing_never_risks_more_than_asked_nor_breaks_a_cap() -> None:
    for equity, risk, entry, stop in [
        ("12345.67", "0.0137", "101.37", "97.11"),
        ("999.99", "0.01", "3.3333", "3.1111"),
        ("50000", "0.002", "65432.1", "64000.77"),
    ]:
        result = size(equity, risk, entry, stop, SOL)
        assert result.ok, result.refusal
        assert result.risk_at_stop <= D(equity) * D(risk)
        assert result.notional <= LIMITS.max_order_value
        assert result.notional <= D(equity) * LIMITS.max_position_share
        assert result.qty % Decimal("0.001") == 0
