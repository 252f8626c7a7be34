"""Checks on the account after the order: daily loss and trades, positions and exposure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from risk_helpers import DAY, LIMITS, D, balance, buy, context, open_order, position, sell

from engine.core.position import Position
from engine.core.types import OrderState, OrderType, Side
from engine.risk import (
    CheckResult,
    DayTotals,
    Level,
    RiskContext,
    RiskDecision,
    RiskLimits,
    Rule,
    evaluate,
)


def check(decision: RiskDecision, rule: Rule) -> CheckResult:
    [found] = [c for c in decision.checks if c.rule is rule]
    return found


def lost_today(realized: str, **changes: Any) -> RiskContext:
    """An account that realized `realized` USDT today and holds 0.02 BTC bought for 1100
    (worth 1000 at the 50,000 mark: 100 unrealized loss)."""
    return context(
        positions=[position("BTCUSDT", "0.02", "1100")],
        balances=[balance("USDT", "9000"), balance("BTC", "0.02")],
        day=DayTotals(DAY, realized_pnl={"USDT": D(realized)}, fees={"USDT": D("3.5")}),
        **changes,
    )


# -- daily loss ---------------------------------------------------------------------------------


def test_the_daily_loss_counts_realized_pnl_and_unrealized_losses() -> None:
    result = check(evaluate(buy(), lost_today("-100"), LIMITS), Rule.DAILY_LOSS)
    assert result.passed and result.level is Level.OK
    assert result.message == "today's loss would be 200.5 USDT, 66.83% of the limit 300 USDT"
    assert result.values == {
        "realized_pnl": "-100",
        "fees": "3.5",
        "unrealized_loss": "100",
        "unpriced": "",
        "loss": "200",
        "limit": "300",
        "warning_at": "240",
        "order_loss": "0.5",
        "projected_loss": "200.5",
    }


def test_the_daily_loss_warns_from_eighty_percent() -> None:
    decision = evaluate(buy(), lost_today("-139.5"), LIMITS)
    result = check(decision, Rule.DAILY_LOSS)
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert result.message == (
        "today's loss would be 240 USDT, 80% of the limit 300 USDT (warning from 80%)"
    )
    assert decision.allowed and decision.warnings == (result,)
    below = check(evaluate(buy(), lost_today("-139.4"), LIMITS), Rule.DAILY_LOSS)
    assert below.level is Level.OK  # 239.9 is under 80% of 300


def test_reaching_the_daily_loss_limit_refuses_buys() -> None:
    decision = evaluate(buy(), lost_today("-200"), LIMITS)
    assert decision.refusal == (
        "DAILY_LOSS: today's loss 300 USDT has reached the limit 300 USDT: only sells may be placed"
    )


def test_a_buy_whose_fee_would_cross_the_limit_is_refused() -> None:
    assert evaluate(buy(), lost_today("-199.6"), LIMITS).refusal == (
        "DAILY_LOSS: today's loss would be 300.1 USDT with this order's fee and price (0.5 USDT); "
        "the limit is 300 USDT"
    )


def test_a_buy_above_the_mark_adds_what_it_overpays_to_the_loss() -> None:
    # 0.01 BTC at 51,000 with the mark at 50,000: 10 lost at once, plus a 0.51 fee.
    result = check(evaluate(buy(price="51000"), lost_today("0"), LIMITS), Rule.DAILY_LOSS)
    assert result.values["order_loss"] == "10.51"
    assert result.values["projected_loss"] == "110.51"


def test_realized_gains_offset_losses_but_unrealized_gains_do_not() -> None:
    ctx = context(
        positions=[position("BTCUSDT", "0.02", "1100"), position("ETHUSDT", "1", "1500")],
        day=DayTotals(DAY, realized_pnl={"USDT": D(40)}),
    )
    result = check(evaluate(buy(), ctx, LIMITS), Rule.DAILY_LOSS)
    # BTC is 100 down, ETH 500 up: the loss is 100 - 40 realized, plus the 0.5 fee.
    assert (result.values["loss"], result.values["projected_loss"]) == ("60", "60.5")
    gains = replace(ctx, day=DayTotals(DAY, realized_pnl={"USDT": D(500)}))
    assert check(evaluate(buy(), gains, LIMITS), Rule.DAILY_LOSS).values["loss"] == "0"


def test_sells_pass_the_daily_loss_even_past_the_limit() -> None:
    result = check(evaluate(sell(), lost_today("-250"), LIMITS), Rule.DAILY_LOSS)
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert (
        result.message
        == "a sell reduces a position; today's loss is 350 USDT of the 300 USDT limit"
    )


def test_an_unmarked_position_makes_the_loss_unknown_and_refuses_buys() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "SOLUSDT"}
    ctx = context(positions=[position("SOLUSDT", "5", "500")], marks=marks)
    decision = evaluate(buy(), ctx, LIMITS)
    assert decision.refusal == "DAILY_LOSS: today's loss is unknown: no mark for SOLUSDT"
    assert check(decision, Rule.TOTAL_EXPOSURE).message == (
        "total exposure is unknown: no mark for SOLUSDT"
    )
    assert check(decision, Rule.POSITION_VALUE).passed  # BTC itself is known
    unknown_sell = check(evaluate(sell("SOLUSDT", "1", "100"), ctx, LIMITS), Rule.DAILY_LOSS)
    assert (unknown_sell.passed, unknown_sell.level) == (True, Level.WARNING)


def test_a_position_of_unknown_entry_is_left_out_of_the_loss() -> None:
    ctx = context(positions=[position("SOLUSDT", "5", None)])
    result = check(evaluate(buy(), ctx, LIMITS), Rule.DAILY_LOSS)
    assert result.passed and result.values["unpriced"] == "SOLUSDT"
    assert result.values["unrealized_loss"] == "0"


def test_realized_pnl_in_an_unconvertible_quote_makes_the_loss_unknown() -> None:
    ctx = context(day=DayTotals(DAY, realized_pnl={"FDUSD": D(-5)}))
    decision = evaluate(buy(), ctx, LIMITS)
    assert decision.refusal == (
        "DAILY_LOSS: today's loss is unknown: today's realized PnL is in an asset with no mark in "
        "USDT"
    )
    assert check(decision, Rule.DAILY_LOSS).values["realized_pnl"] == "unknown"


# -- daily trades -------------------------------------------------------------------------------


def test_the_last_buy_of_the_day_passes_with_a_warning() -> None:
    result = check(
        evaluate(buy(), context(day=DayTotals(DAY, trades=49)), LIMITS), Rule.DAILY_TRADES
    )
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert result.message == "buy 50 of 50 on trading day 2026-01-02"


def test_a_buy_past_the_daily_trade_count_is_refused_and_sells_are_not() -> None:
    limits = RiskLimits(trading_day_rollover_hour=6)
    ctx = context(day=DayTotals(DAY, trades=50))
    assert evaluate(buy(), ctx, limits).refusal == (
        "DAILY_TRADES: 50 buys on trading day 2026-01-02; the limit is 50 per day (the day rolls "
        "over at 06:00 UTC)"
    )
    holding = replace(
        ctx,
        positions={"BTCUSDT": position("BTCUSDT", "0.01", "500")},
        balances={"BTC": balance("BTC", "0.01")},
    )
    result = check(evaluate(sell(), holding, limits), Rule.DAILY_TRADES)
    assert result.passed
    assert (
        result.message
        == "sells are not limited by the daily trade count (50 of 50 buys on 2026-01-02)"
    )


# -- open positions -----------------------------------------------------------------------------


def five_positions(**changes: Any) -> RiskContext:
    held = [
        position("BTCUSDT", "0.002", "100"),
        position("ETHUSDT", "0.05", "100"),
        position("SOLUSDT", "1", "100"),
        position("BNBUSDT", "0.2", "100"),
        position("XRPUSDT", "50", "100"),
    ]
    return context(positions=held, **changes)


def test_a_buy_on_a_sixth_symbol_is_refused() -> None:
    assert evaluate(buy("ADAUSDT", "100", "0.5"), five_positions(), LIMITS).refusal == (
        "OPEN_POSITIONS: buying ADAUSDT would make 6 open positions; the limit is 5 (open: "
        "BNBUSDT, BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT)"
    )


def test_adding_to_a_held_symbol_does_not_open_a_position() -> None:
    result = check(evaluate(buy(), five_positions(), LIMITS), Rule.OPEN_POSITIONS)
    assert (result.passed, result.level) == (True, Level.WARNING)
    assert result.message == "5 of 5 open positions after this order"


def test_dust_does_not_count_and_a_resting_buy_does() -> None:
    ctx = five_positions()
    dusty = replace(ctx, positions={**ctx.positions, "XRPUSDT": position("XRPUSDT", "0.4", "1")})
    assert evaluate(buy("ADAUSDT", "100", "0.5"), dusty, LIMITS).allowed  # 0.8 USDT of XRP
    resting = replace(dusty, open_orders=[open_order("ADAUSDT", Side.BUY, "100", "0.4")])
    assert (
        check(evaluate(buy("ADAUSDT", "100", "0.5"), resting, LIMITS), Rule.OPEN_POSITIONS).values[
            "open"
        ]
        == "ADAUSDT,BNBUSDT,BTCUSDT,ETHUSDT,SOLUSDT"
    )
    dust_sell = check(evaluate(sell("XRPUSDT", "0.4", "2"), dusty, LIMITS), Rule.OPEN_POSITIONS)
    assert dust_sell.message == "a sell never opens a position (4 of 5 open)"


# -- position size ------------------------------------------------------------------------------


def test_a_position_above_its_maximum_value_is_refused() -> None:
    ctx = context(
        positions=[position("BTCUSDT", "0.04", "2000")],
        balances=[balance("USDT", "8000"), balance("BTC", "0.04")],
        open_orders=[open_order("BTCUSDT", Side.BUY, "0.002", "45000")],
    )
    decision = evaluate(buy(qty="0.02"), ctx, LIMITS)
    assert decision.refusal == (
        "POSITION_VALUE: the BTCUSDT position would be 3090 USDT (held 2000, resting buys 90, this "
        "order 1000); the maximum is 2500 USDT"
    )


def test_a_position_below_its_minimum_value_is_refused() -> None:
    limits = RiskLimits(min_position_value=D(600))
    assert evaluate(buy(), context(), limits).refusal == (
        "POSITION_VALUE: the BTCUSDT position would be 500 USDT, below the minimum 600 USDT"
    )


def test_a_position_is_valued_at_the_higher_of_price_and_mark() -> None:
    ctx = context(positions=[position("BTCUSDT", "0.01", "500")])
    above = check(evaluate(buy(price="51000"), ctx, LIMITS), Rule.POSITION_VALUE)
    assert (above.values["held"], above.values["order"], above.values["value"]) == (
        "510",
        "510",
        "1020",
    )
    below = check(evaluate(buy(price="49000"), ctx, LIMITS), Rule.POSITION_VALUE)
    assert below.message == "the BTCUSDT position would be 1000 USDT of the 2500 USDT maximum"


def test_a_position_above_its_share_of_equity_is_refused() -> None:
    ctx = context(equity=D(4000), balances=[balance("USDT", "4000")])
    decision = evaluate(buy(qty="0.024"), ctx, LIMITS)
    assert decision.refusal == (
        "POSITION_SHARE: the BTCUSDT position would be 1200 USDT, 30% of equity 3998.8 USDT; the "
        "limit is 25% (999.7 USDT)"
    )
    assert check(decision, Rule.POSITION_SHARE).values == {
        "value": "1200",
        "equity": "3998.8",
        "share": "0.25",
        "cap": "999.7",
    }


def test_no_equity_refuses_every_buy() -> None:
    decision = evaluate(buy(), context(equity=D(0)), LIMITS)
    assert decision.refusal == "POSITION_SHARE: equity after this order would be -0.5 USDT"


# -- total and long exposure --------------------------------------------------------------------


def exposed(**changes: object) -> RiskContext:
    """20,000 USDT of equity, 5,000 of it in ETH, SOL and BNB bought at their marks."""
    ctx = context(
        equity=D(20000),
        positions=[
            position("ETHUSDT", "1", "2000"),
            position("SOLUSDT", "20", "2000"),
            position("BNBUSDT", "2", "1000"),
        ],
        balances=[balance("USDT", "15000"), balance("ETH", "1")],
    )
    return replace(ctx, **changes)


def test_total_exposure_counts_positions_resting_buys_and_the_order() -> None:
    passed = check(evaluate(buy(), exposed(), LIMITS), Rule.TOTAL_EXPOSURE)
    assert passed.message == "total exposure would be 5500 USDT of the 6000 USDT limit"
    assert passed.level is Level.WARNING
    resting = exposed(open_orders=[open_order("ETHUSDT", Side.BUY, "0.5", "1900")])
    assert evaluate(buy(), resting, LIMITS).refusal == (
        "TOTAL_EXPOSURE: total exposure would be 6450 USDT; the limit is 6000 USDT"
    )


def test_sells_only_reduce_exposure() -> None:
    result = check(evaluate(sell("ETHUSDT", "1", "2000"), exposed(), LIMITS), Rule.TOTAL_EXPOSURE)
    assert result.message == "a sell only reduces exposure (5000 USDT of the 6000 USDT limit)"


def test_long_exposure_is_capped_as_a_share_of_equity() -> None:
    limits = RiskLimits(max_long_exposure_share=D("0.45"), max_total_exposure=D(50000))
    ctx = exposed(equity=D(10000))
    decision = evaluate(buy(), ctx, limits)
    assert decision.refusal == (
        "LONG_EXPOSURE: long exposure would be 5500 USDT, 55% of equity 9999.5 USDT; the limit is "
        "45% (4499.775 USDT)"
    )
    wider = RiskLimits(max_long_exposure_share=D("0.6"), max_total_exposure=D(50000))
    result = check(evaluate(buy(), ctx, wider), Rule.LONG_EXPOSURE)
    assert (result.passed, result.level) == (True, Level.WARNING)


def test_a_resting_buy_of_unknown_value_makes_exposure_unknown() -> None:
    ctx = exposed(open_orders=[open_order("ADAUSDT", Side.BUY, None, None, quote_qty="50")])
    known = check(evaluate(buy(), ctx, LIMITS), Rule.TOTAL_EXPOSURE)
    assert known.message == "total exposure would be 5550 USDT of the 6000 USDT limit"
    marks = {k: v for k, v in ctx.marks.items() if k != "ADAUSDT"}
    market = open_order("ADAUSDT", Side.BUY, "10", None, order_type=OrderType.MARKET)
    unmarked = replace(ctx, marks=marks, open_orders=[market])
    assert evaluate(buy(), unmarked, LIMITS).refusal == (
        "TOTAL_EXPOSURE: total exposure is unknown: no mark for ADAUSDT"
    )


# -- what open orders and odd holdings add ------------------------------------------------------


def test_open_sells_by_quote_quantity_offer_their_value_at_the_mark() -> None:
    resting = open_order("BTCUSDT", Side.SELL, None, order_type=OrderType.MARKET, quote_qty="250")
    ctx = context(
        positions=[position("BTCUSDT", "0.02", "1000")],
        balances=[balance("USDT", "9000"), balance("BTC", "0.02")],
        open_orders=[resting, open_order("BTCUSDT", Side.SELL, "1", "1", state=OrderState.FILLED)],
    )
    result = check(evaluate(sell(qty="0.015"), ctx, LIMITS), Rule.NO_SHORT)
    assert result.values["offered"] == "0.005" and result.passed  # 250 / 50000; the fill is gone
    unmarked = replace(ctx, marks={})
    # Without a mark, such a sell may take everything held.
    assert (
        check(evaluate(sell(qty="0.015"), unmarked, LIMITS), Rule.NO_SHORT).values["offered"]
        == "0.02"
    )


def test_open_orders_of_unknown_size_or_symbol_make_exposure_unknown() -> None:
    sizeless = open_order("ETHUSDT", Side.BUY, None)
    assert evaluate(buy(), context(open_orders=[sizeless]), LIMITS).refusal == (
        "TOTAL_EXPOSURE: total exposure is unknown: cannot value ETHUSDT: an open order without a "
        "size or a side, or a quote asset with no mark in USDT"
    )
    unlisted = open_order("DOGEUSDT", Side.BUY, "100", "0.2")
    assert evaluate(buy(), context(open_orders=[unlisted]), LIMITS).refusal == (
        "TOTAL_EXPOSURE: total exposure is unknown: no mark for DOGEUSDT"
    )


def test_a_position_in_a_symbol_without_rules_is_valued_in_its_own_quote() -> None:
    delisted = Position("LUNAUSDT", "LUNA", "USDT", qty=D(100), cost_basis=D(300))
    ctx = context(positions=[delisted], marks={**context().marks, "LUNAUSDT": D(2)})
    result = check(evaluate(buy(), ctx, LIMITS), Rule.TOTAL_EXPOSURE)
    assert result.values["value"] == "700"  # 200 of LUNA plus this order's 500
    assert check(evaluate(buy(), ctx, LIMITS), Rule.DAILY_LOSS).values["unrealized_loss"] == "100"


def test_a_held_position_without_a_mark_has_no_value_even_for_a_limit_buy() -> None:
    marks = {k: v for k, v in context().marks.items() if k != "BTCUSDT"}
    ctx = context(positions=[position("BTCUSDT", "0.01", "500")], marks=marks)
    assert check(evaluate(buy(), ctx, LIMITS), Rule.POSITION_VALUE).message == (
        "the BTCUSDT position's value is unknown: no mark for BTCUSDT"
    )
