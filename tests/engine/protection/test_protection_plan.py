"""Planning protection: order types, quantization toward safety, and every refusal with its
numbers (BTCUSDT as the embedded exchange lists it: tick 0.01, step 0.00001, notional >= 5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.core.rules import SymbolRules
from engine.core.types import OrderType, TimeInForce
from engine.protection import LegPlan, PlanRefusal, ProtectionRequest, plan_protection
from engine.sim.core.symbols import default_symbols

LAST = Decimal(95000)
OFFSET = Decimal("0.5")


@pytest.fixture
def rules() -> SymbolRules:
    spec = next(s for s in default_symbols() if s.symbol == "BTCUSDT")
    return SymbolRules.from_exchange_info(spec.info())


def plan(rules: SymbolRules, last: Decimal = LAST, **fields: object) -> object:
    request = ProtectionRequest("BTCUSDT", **{"quantity": Decimal("0.01"), **fields})  # type: ignore[arg-type]
    return plan_protection(request, rules, last, stop_limit_offset_pct=OFFSET)


def refusal(rules: SymbolRules, last: Decimal = LAST, **fields: object) -> str:
    with pytest.raises(PlanRefusal) as caught:
        plan(rules, last, **fields)
    return str(caught.value)


def test_stop_loss_alone_is_a_stop_loss_limit_snapped_toward_safety(rules: SymbolRules) -> None:
    found = plan_protection(
        ProtectionRequest("BTCUSDT", Decimal("0.012345"), stop_loss=Decimal("90000.001")),
        rules,
        LAST,
        stop_limit_offset_pct=OFFSET,
    )
    assert found.is_oco is False
    assert found.quantity == Decimal("0.01234")  # floored: never sell more than held
    # the trigger rounds up (fires no later); the limit 0.5% below it rounds down (still fills)
    assert found.legs == (
        LegPlan(
            "stop_loss",
            OrderType.STOP_LOSS_LIMIT,
            Decimal("89550.00"),
            Decimal("90000.01"),
            None,
            TimeInForce.GTC,
        ),
    )
    assert found.adjusted == ("stop_loss", "quantity")


def test_take_profit_alone_is_a_take_profit_limit(rules: SymbolRules) -> None:
    found = plan_protection(
        ProtectionRequest("BTCUSDT", Decimal("0.01"), take_profit=Decimal("100000.009")),
        rules,
        LAST,
        stop_limit_offset_pct=OFFSET,
    )
    assert found.legs == (
        LegPlan(
            "take_profit",
            OrderType.TAKE_PROFIT_LIMIT,
            Decimal("100000.00"),
            Decimal("100000.00"),
            None,
            TimeInForce.GTC,
        ),
    )
    assert found.adjusted == ("take_profit",)


def test_both_are_one_oco_take_profit_above_stop_below(rules: SymbolRules) -> None:
    found = plan_protection(
        ProtectionRequest(
            "BTCUSDT", Decimal("0.01"), stop_loss=Decimal(90000), take_profit=Decimal(100000)
        ),
        rules,
        LAST,
        stop_limit_offset_pct=OFFSET,
    )
    assert found.is_oco is True
    assert [(leg.role, leg.type) for leg in found.legs] == [
        ("take_profit", OrderType.TAKE_PROFIT_LIMIT),
        ("stop_loss", OrderType.STOP_LOSS_LIMIT),
    ]
    assert found.adjusted == ()


def test_a_binance_trailing_stop_has_a_delta_and_no_stop_price(rules: SymbolRules) -> None:
    found = plan_protection(
        ProtectionRequest("BTCUSDT", Decimal("0.01"), trailing_delta_bips=150),
        rules,
        LAST,
        stop_limit_offset_pct=OFFSET,
    )
    assert found.legs == (LegPlan("stop_loss", OrderType.STOP_LOSS, None, None, 150, None),)


def test_oco_relation_refused_with_the_numbers(rules: SymbolRules) -> None:
    assert refusal(rules, stop_loss=Decimal(96000), take_profit=Decimal(100000)) == (
        "a SELL OCO needs take-profit > last price > stop-loss: got take-profit 100000, "
        "last price 95000, stop-loss 96000"
    )
    assert refusal(rules, stop_loss=Decimal(90000), take_profit=Decimal(94000)) == (
        "a SELL OCO needs take-profit > last price > stop-loss: got take-profit 94000, "
        "last price 95000, stop-loss 90000"
    )


def test_a_stop_at_or_above_the_last_price_would_trigger_at_once(rules: SymbolRules) -> None:
    assert refusal(rules, stop_loss=Decimal(95000)) == (
        "stop-loss 95000 is not below the last price 95000: it would trigger immediately"
    )


def test_a_take_profit_at_or_below_the_last_price_is_refused(rules: SymbolRules) -> None:
    assert refusal(rules, take_profit=Decimal("94999.99")) == (
        "take-profit 94999.99 is not above the last price 95000: it would trigger immediately"
    )


def test_trailing_delta_outside_the_filter_range(rules: SymbolRules) -> None:
    assert refusal(rules, trailing_delta_bips=5) == (
        "trailing delta 5 BIPS is outside the symbol's TRAILING_DELTA range [10, 2000] "
        "(100 BIPS = 1%)"
    )
    assert refusal(rules, trailing_delta_bips=2001).startswith("trailing delta 2001 BIPS")


def test_argument_combinations(rules: SymbolRules) -> None:
    assert refusal(rules) == "give a stop-loss, a take-profit or a trailing delta"
    assert refusal(rules, stop_loss=Decimal(90000), trailing_delta_bips=100) == (
        "give a stop-loss price or a trailing delta, not both"
    )
    assert refusal(rules, last=Decimal(0), stop_loss=Decimal(1)) == (
        "no usable last price for BTCUSDT (0)"
    )


def test_quantity_rounding_to_zero(rules: SymbolRules) -> None:
    assert refusal(rules, quantity=Decimal("0.000009"), stop_loss=Decimal(90000)) == (
        "quantity 0.000009 rounds down to 0 at step 0.00001"
    )


def test_exchange_filters_are_named(rules: SymbolRules) -> None:
    # 0.00005 BTC at the stop's limit price 89550 is 4.48 USDT: under the 5 USDT notional
    message = refusal(rules, quantity=Decimal("0.00005"), stop_loss=Decimal(90000))
    assert message.startswith("refused before sending: stop_loss STOP_LOSS_LIMIT: NOTIONAL: ")
    assert "4.4775" in message
