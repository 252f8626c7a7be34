"""Checks on the order itself: each one passing, and refusing with its exact message."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from risk_helpers import (
    LIMITS,
    T0,
    D,
    balance,
    buy,
    context,
    open_order,
    position,
    sell,
)

from engine.core.types import OrderType, Side
from engine.risk import (
    CheckResult,
    Level,
    ProposedOrder,
    RiskContext,
    RiskDecision,
    RiskLimits,
    Rule,
    TradingState,
    account_equity,
    evaluate,
)


def check(decision: RiskDecision, rule: Rule) -> CheckResult:
    [found] = [c for c in decision.checks if c.rule is rule]
    return found


def holding_btc(
    qty: str = "0.02", cost: str = "1000", *, free: str | None = None, **changes: Any
) -> RiskContext:
    """An account holding `qty` BTC (bought for `cost`) and 9,000 USDT."""
    return context(
        positions=[position("BTCUSDT", qty, cost)],
        balances=[balance("USDT", "9000"), balance("BTC", free or qty)],
        **changes,
    )


# -- a plain order passes every rule ------------------------------------------------------------


def test_a_small_limit_buy_passes_every_rule_in_a_fixed_order() -> None:
    decision = evaluate(buy(), context(), LIMITS)
    assert decision.allowed and decision.may_send and decision.refusal is None
    assert not decision.needs_confirmation and decision.warnings == ()
    assert [c.rule for c in decision.checks] == list(Rule)
    assert all(c.passed and c.level is Level.OK for c in decision.checks)
    assert decision.notional == D(500)
    assert check(decision, Rule.BALANCE).message == (
        "needs 500.5 USDT (500 plus an estimated fee 0.5); 10000 USDT is free "
        "(0 locked is not available)"
    )
    assert check(decision, Rule.BALANCE).values == {
        "asset": "USDT",
        "free": "10000",
        "locked": "0",
        "cost": "500",
        "fee": "0.5",
        "need": "500.5",
    }


def test_the_decision_is_deterministic_and_json_ready() -> None:
    first = evaluate(buy(), context(), LIMITS).to_json()
    assert first == evaluate(buy(), context(), LIMITS).to_json()
    assert first["allowed"] is True and first["refusal"] is None and first["notional"] == "500"
    assert first["order"] == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "qty": "0.01000",  # on the step and the tick, as it would be sent
        "quote_qty": None,
        "price": "50000.00",
        "stop_price": None,
        "confirmed": False,
    }
    assert first["checks"][0] == {
        "rule": "TRADING_STATE",
        "passed": True,
        "level": "ok",
        "message": "trading is ACTIVE",
        "values": {"state": "ACTIVE", "reason": ""},
    }


def test_a_proposed_order_has_a_quantity_or_a_quote_quantity() -> None:
    for qty, quote in ((None, None), (D(1), D(1))):
        try:
            ProposedOrder("BTCUSDT", Side.BUY, OrderType.MARKET, qty=qty, quote_qty=quote)
        except ValueError as error:
            assert str(error) == "an order has a quantity or a quote quantity, not both or neither"
        else:
            raise AssertionError("accepted")
    assert ProposedOrder("X", Side.SELL, OrderType.MARKET, qty=D(1)).reduces_position
    assert not ProposedOrder("X", Side.BUY, OrderType.MARKET, qty=D(1)).reduces_position


# -- trading state ------------------------------------------------------------------------------


def test_reducing_refuses_buys_and_passes_sells_with_a_warning() -> None:
    ctx = holding_btc(trading_state=TradingState.REDUCING, trading_state_reason="daily loss")
    refused = evaluate(buy(), ctx, LIMITS)
    assert refused.refusal == (
        "TRADING_STATE: trading is REDUCING (daily loss): only sells, which reduce positions, "
        "may be placed"
    )
    passed = check(evaluate(sell(), ctx, LIMITS), Rule.TRADING_STATE)
    assert (passed.passed, passed.level) == (True, Level.WARNING)
    assert passed.message == "trading is REDUCING (daily loss); a sell reduces a position"


def test_halted_refuses_every_new_order() -> None:
    ctx = holding_btc(trading_state=TradingState.HALTED, trading_state_reason="operator: lunch")
    for order in (buy(), sell()):
        assert evaluate(order, ctx, LIMITS).refusal == (
            "TRADING_STATE: trading is HALTED (operator: lunch): no new orders until the operator "
            "arms with a reason"
        )
    no_reason = replace(ctx, trading_state_reason="")
    result = check(evaluate(sell(), no_reason, LIMITS), Rule.TRADING_STATE)
    assert result.message.startswith("trading is HALTED: no new orders")
    assert result.values == {"state": "HALTED", "reason": ""}


# -- symbol lists -------------------------------------------------------------------------------


def test_the_deny_list_refuses_buys_but_not_sells() -> None:
    limits = LIMITS.model_copy(update={"denied_symbols": ["BTCUSDT"]})
    assert evaluate(buy(), holding_btc(), limits).refusal == "SYMBOL: BTCUSDT is on the deny list"
    result = check(evaluate(sell(), holding_btc(), limits), Rule.SYMBOL)
    assert result.passed
    assert result.message == "BTCUSDT may be sold (the allow and deny lists limit buys only)"
    assert result.values == {"symbol": "BTCUSDT", "allowed": "all", "denied": "BTCUSDT"}


def test_the_allow_list_refuses_other_symbols() -> None:
    limits = RiskLimits(allowed_symbols="solusdt,ETHUSDT")
    assert evaluate(buy(), context(), limits).refusal == (
        "SYMBOL: BTCUSDT is not on the allow list (ETHUSDT, SOLUSDT)"
    )
    allowed = evaluate(buy("ETHUSDT", "0.1", "2000"), context(), limits)
    assert check(allowed, Rule.SYMBOL).message == "ETHUSDT may be bought" and allowed.allowed


def test_a_symbol_without_rules_or_quoted_elsewhere_is_refused() -> None:
    unknown = evaluate(buy("DOGEUSDT", "10", "1"), context(), LIMITS)
    assert unknown.refusal == "SYMBOL: no exchangeInfo rules for DOGEUSDT"
    assert {c.rule for c in unknown.failed} >= {Rule.SYMBOL, Rule.EXCHANGE_FILTERS, Rule.BALANCE}
    assert check(unknown, Rule.DAILY_LOSS).message == (
        "today's loss is unknown: no exchangeInfo rules for DOGEUSDT"
    )
    other_quote = evaluate(buy("ETHBTC", "0.1", "0.04"), context(), LIMITS)
    assert other_quote.refusal == (
        "SYMBOL: ETHBTC is quoted in BTC, not in USDT, the asset the risk limits are in"
    )


# -- exchange filters ---------------------------------------------------------------------------


def test_the_order_is_rounded_toward_safety_before_every_check() -> None:
    decision = evaluate(buy("BTCUSDT", "0.012345", "50000.005"), context(), LIMITS)
    assert (decision.order.qty, decision.order.price) == (D("0.01234"), D("50000.00"))
    assert decision.adjusted == ("quantity", "price")
    result = check(decision, Rule.EXCHANGE_FILTERS)
    assert result.message == "passes BTCUSDT's exchange filters (rounded: quantity, price)"
    assert result.values == {"quantity": "0.01234", "price": "50000", "adjusted": "quantity,price"}
    assert decision.notional == D("617.0000000")


def test_an_order_the_venue_would_refuse_names_the_filter_and_numbers() -> None:
    decision = evaluate(buy("BTCUSDT", "0.00005", "50000"), context(), LIMITS)
    assert decision.refusal == "EXCHANGE_FILTERS: notional 2.5000000 is below minNotional 5"
    assert check(decision, Rule.EXCHANGE_FILTERS).values["filters"] == "NOTIONAL"


def test_the_symbol_open_order_counts_reach_the_filters() -> None:
    rules = replace(context().rules["BTCUSDT"], max_num_orders=1)
    ctx = context(
        rules={**context().rules, "BTCUSDT": rules},
        open_orders=[open_order("BTCUSDT", Side.BUY, "0.001", "40000")],
    )
    assert evaluate(buy(), ctx, LIMITS).refusal == (
        "EXCHANGE_FILTERS: 1 open orders on BTCUSDT; the limit is 1"
    )


# -- order rate ---------------------------------------------------------------------------------


def test_the_order_rate_counts_the_last_sixty_seconds_only() -> None:
    old = [T0 - timedelta(seconds=61), T0 - timedelta(seconds=60)]
    nine = [T0 - timedelta(seconds=5 * k) for k in range(1, 10)]
    result = check(evaluate(buy(), context(recent_order_times=old + nine), LIMITS), Rule.ORDER_RATE)
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert result.message == "9 orders sent in the last 60 s; the limit is 10 per minute"


def test_the_order_rate_refuses_the_eleventh_order_and_says_when_the_next_may_go() -> None:
    ten = [T0 - timedelta(seconds=5 * k) for k in range(1, 11)]  # 5 s to 50 s ago
    decision = evaluate(sell(), holding_btc(recent_order_times=ten), LIMITS)
    assert decision.refusal == (
        "ORDER_RATE: 10 orders sent in the last 60 s; the limit is 10 per minute (the next one "
        "may go at 2026-01-02T10:00:10+00:00)"
    )
    later = holding_btc(recent_order_times=ten, now=T0 + timedelta(seconds=10))
    assert check(evaluate(sell(), later, LIMITS), Rule.ORDER_RATE).passed


# -- balance ------------------------------------------------------------------------------------


def test_a_buy_needs_free_quote_for_its_cost_and_fee_locked_funds_excluded() -> None:
    ctx = context(balances=[balance("USDT", "500", "1000")])
    assert evaluate(buy(), ctx, LIMITS).refusal == (
        "BALANCE: needs 500.5 USDT (500 plus an estimated fee 0.5); 500 USDT is free "
        "(1000 locked is not available)"
    )
    enough = context(balances=[balance("USDT", "500.5", "1000")])
    assert check(evaluate(buy(), enough, LIMITS), Rule.BALANCE).passed


def test_a_sell_needs_the_free_base_asset() -> None:
    ctx = holding_btc(free="0.005")
    ctx = replace(ctx, balances={**ctx.balances, "BTC": balance("BTC", "0.005", "0.015")})
    assert evaluate(sell(), ctx, LIMITS).refusal == (
        "BALANCE: sells 0.01 BTC; 0.005 BTC is free (0.015 locked is not available)"
    )


def test_a_market_buy_without_a_mark_has_an_unknown_cost() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "BTCUSDT"}
    order = buy(qty="0.01", price=None, order_type=OrderType.MARKET)
    decision = evaluate(order, context(marks=marks), LIMITS)
    assert decision.refusal == "BALANCE: the order's cost is unknown: no mark for BTCUSDT"
    assert decision.needs_confirmation  # an order of unknown value always needs a yes
    assert check(decision, Rule.SOFT_NOTIONAL).message == (
        "the order's value is unknown (no mark for BTCUSDT): it needs an explicit confirmation"
    )


# -- no short -----------------------------------------------------------------------------------


def test_a_sell_can_never_sell_more_than_the_position_holds() -> None:
    ctx = holding_btc(free="0.05")  # base held outside the desk's position does not count
    decision = evaluate(sell(qty="0.03"), ctx, LIMITS)
    assert decision.refusal == (
        "NO_SHORT: selling 0.03 BTC would open a short: 0.02 BTC available (held 0.02, offered "
        "by open sells 0)"
    )
    passed = check(evaluate(sell(qty="0.02"), ctx, LIMITS), Rule.NO_SHORT)
    assert passed.passed and passed.message == (
        "sells 0.02 BTC of 0.02 BTC available (held 0.02, offered by open sells 0)"
    )


def test_open_sells_already_offer_part_of_the_position() -> None:
    resting = open_order("BTCUSDT", Side.SELL, "0.02", "60000", cum_qty="0.005")
    ctx = holding_btc(open_orders=[resting])
    assert evaluate(sell(), ctx, LIMITS).refusal == (
        "NO_SHORT: selling 0.01 BTC would open a short: 0.005 BTC available (held 0.02, offered "
        "by open sells 0.015)"
    )


def test_a_sell_without_a_position_is_refused() -> None:
    ctx = context(balances=[balance("USDT", "10000"), balance("BTC", "0.01")])
    assert evaluate(sell(), ctx, LIMITS).refusal == (
        "NO_SHORT: selling 0.01 BTC would open a short: 0 BTC available (held 0, offered by open "
        "sells 0)"
    )


# -- order value --------------------------------------------------------------------------------


def test_a_buy_below_the_minimum_order_value_is_refused() -> None:
    assert evaluate(buy(qty="0.0001"), context(), LIMITS).refusal == (
        "ORDER_VALUE: order value 5 USDT is below the minimum 10 USDT"
    )


def test_a_buy_above_the_maximum_order_value_is_refused() -> None:
    decision = evaluate(buy(qty="0.05"), context(), LIMITS)
    assert decision.refusal == "ORDER_VALUE: order value 2500 USDT is above the maximum 2000 USDT"
    assert check(decision, Rule.ORDER_VALUE).values == {
        "value": "2500",
        "min": "10",
        "max": "2000",
    }


def test_sells_are_not_limited_by_order_value() -> None:
    ctx = holding_btc("0.06", "3000")
    result = check(evaluate(sell(qty="0.05"), ctx, LIMITS), Rule.ORDER_VALUE)
    assert result.passed and result.message == "a sell is not limited by order value (2500 USDT)"


# -- soft notional confirmation -----------------------------------------------------------------


def test_above_the_soft_limit_an_order_needs_an_explicit_confirmation() -> None:
    decision = evaluate(buy(qty="0.03"), context(), LIMITS)
    assert decision.allowed and decision.needs_confirmation and not decision.may_send
    result = check(decision, Rule.SOFT_NOTIONAL)
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert result.message == (
        "order value 1500 USDT is above the soft limit 1000 USDT: it needs an explicit confirmation"
    )
    assert decision.warnings == (result,)
    confirmed = evaluate(buy(qty="0.03", confirmed=True), context(), LIMITS)
    assert confirmed.may_send and not confirmed.needs_confirmation
    assert check(confirmed, Rule.SOFT_NOTIONAL).message == (
        "order value 1500 USDT is above the soft limit 1000 USDT: confirmed"
    )


def test_at_the_soft_limit_no_confirmation_is_needed() -> None:
    decision = evaluate(buy(qty="0.02"), context(), LIMITS)
    assert not decision.needs_confirmation
    assert check(decision, Rule.SOFT_NOTIONAL).message == (
        "order value 1000 USDT is within the soft limit 1000 USDT"
    )


# -- other order types --------------------------------------------------------------------------


def test_a_market_buy_by_quote_quantity_is_valued_at_its_quote_quantity() -> None:
    order = ProposedOrder("BTCUSDT", Side.BUY, OrderType.MARKET, quote_qty=D(100))
    decision = evaluate(order, context(), LIMITS)
    assert decision.allowed and decision.notional == D(100)
    assert check(decision, Rule.POSITION_VALUE).values["order"] == "100"
    assert check(decision, Rule.BALANCE).message.startswith("needs 100.1 USDT (100 plus")


def test_a_market_sell_by_quote_quantity_counts_up_to_the_next_step() -> None:
    order = ProposedOrder("BTCUSDT", Side.SELL, OrderType.MARKET, quote_qty=D(100))
    ctx = holding_btc(marks={**context().marks, "BTCUSDT": D(30000)})
    result = check(evaluate(order, ctx, LIMITS), Rule.NO_SHORT)
    # 100 / 30000 = 0.00333..., so up to 0.00334 BTC may leave.
    assert result.values["qty"] == "0.00334"


def test_a_protective_stop_limit_sell_passes() -> None:
    order = ProposedOrder(
        "BTCUSDT",
        Side.SELL,
        OrderType.STOP_LOSS_LIMIT,
        qty=D("0.02"),
        price=D(44900),
        stop_price=D(45000),
        confirmed=True,
    )
    decision = evaluate(order, holding_btc(), LIMITS)
    assert decision.may_send and decision.notional == D("898.00")


def test_a_buy_stop_is_valued_at_its_trigger_when_above_the_mark() -> None:
    order = ProposedOrder(
        "BTCUSDT", Side.BUY, OrderType.STOP_LOSS, qty=D("0.01"), stop_price=D(52000)
    )
    decision = evaluate(order, context(), LIMITS)
    assert decision.allowed and decision.notional == D(520)
    # Paying 2000 above the mark for 0.01 BTC is a loss of 20 plus the fee 0.52.
    assert check(decision, Rule.DAILY_LOSS).values["order_loss"] == "20.52"


def test_a_sell_by_quote_quantity_without_a_mark_has_an_unknown_quantity() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "BTCUSDT"}
    order = ProposedOrder("BTCUSDT", Side.SELL, OrderType.MARKET, quote_qty=D(100))
    decision = evaluate(order, holding_btc(marks=marks), LIMITS)
    assert decision.refusal == "BALANCE: the quantity to sell is unknown: no mark for BTCUSDT"
    assert check(decision, Rule.NO_SHORT).message == (
        "the quantity to sell is unknown: no mark for BTCUSDT"
    )


def test_a_stop_market_sell_is_valued_at_its_trigger() -> None:
    order = ProposedOrder(
        "BTCUSDT", Side.SELL, OrderType.STOP_LOSS, qty=D("0.02"), stop_price=D(45000)
    )
    decision = evaluate(order, holding_btc(), LIMITS)
    assert decision.may_send and decision.notional == D(900)


def test_the_context_takes_only_aware_times() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        replace(context(), now=datetime(2026, 1, 2))  # noqa: DTZ001 - the naive time under test


def test_account_equity_values_every_asset_it_can_and_names_the_rest() -> None:
    balances = [
        balance("USDT", "1000", "500"),
        balance("BTC", "0.01", "0.01"),
        balance("XYZ", "5"),
        balance("ETH", "0"),
    ]
    assert account_equity(balances, context().marks, "USDT") == (D(2500), ("XYZ",))


def test_amounts_quoted_in_an_unconvertible_asset_are_unknown() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "BTCUSDT"}
    held = context(
        positions=[position("ETHBTC", "1", "0.04")], balances=[balance("ETH", "1")], marks=marks
    )
    decision = evaluate(sell("ETHBTC", "0.5", "0.04"), held, LIMITS)
    assert decision.allowed and decision.needs_confirmation
    assert check(decision, Rule.SOFT_NOTIONAL).message == (
        "the order's value is unknown (cannot value ETHBTC: an open order without a size or a "
        "side, or a quote asset with no mark in USDT): it needs an explicit confirmation"
    )
    not_held = replace(held, positions={})
    assert check(
        evaluate(sell("ETHBTC", "0.5", "0.04"), not_held, LIMITS), Rule.SOFT_NOTIONAL
    ).message == (
        "the order's value is unknown (no mark to convert BTC into USDT): it needs an explicit "
        "confirmation"
    )
