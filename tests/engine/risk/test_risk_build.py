"""Assembling a RiskContext from a real ledger, open orders, counters and the trading state."""

from __future__ import annotations

from datetime import timedelta

from risk_helpers import LIMITS, MARKS, RULES, T0, D, balance, buy, open_order, sell

from engine.core.reports import FillReport
from engine.core.types import OrderState, Side
from engine.ledger import Ledger
from engine.risk import (
    DailyCounters,
    DayTotals,
    TradingState,
    TradingStateMachine,
    build_context,
    evaluate,
)


def fill(side: Side, qty: str, price: str, commission: str, trade_id: int) -> FillReport:
    return FillReport(
        symbol="BTCUSDT",
        trade_id=trade_id,
        order_id=trade_id,
        side=side,
        qty=D(qty),
        price=D(price),
        quote_qty=D(qty) * D(price),
        commission=D(commission),
        commission_asset="USDT",
        time=T0,
    )


def test_the_context_reflects_the_ledger_the_counters_and_the_state() -> None:
    ledger = Ledger(RULES)
    ledger.apply_account_snapshot(
        [balance("USDT", "9000", "500"), balance("BTC", "0.02"), balance("XYZ", "7")], T0
    )
    ledger.apply_fill(fill(Side.BUY, "0.04", "49000", "1.96", 1))
    counters = DailyCounters(0, T0, ledger.positions())
    ledger.apply_fill(fill(Side.SELL, "0.02", "48000", "0.96", 2))
    counters.record_order(buy(), T0 - timedelta(seconds=30))
    state = TradingStateMachine()
    state.reduce("loss", T0)
    resting = open_order("BTCUSDT", Side.BUY, "0.001", "40000")
    done = open_order("BTCUSDT", Side.BUY, "0.001", "40000", state=OrderState.FILLED, cid="o2")
    ctx = build_context(
        now=T0,
        ledger=ledger,
        rules=RULES,
        marks=MARKS,
        open_orders=[resting, done],
        counters=counters,
        state=state,
        limits=LIMITS,
        fee_rate=D("0.001"),
    )
    # 9500 USDT plus 0.02 BTC at 50,000; XYZ has no mark and is left out.
    assert ctx.equity == D(10500)
    assert ctx.balances["USDT"].locked == D(500)
    assert ctx.positions["BTCUSDT"].qty == D("0.02")
    # Sold 0.02 of 0.04 bought for 1961.96 at 48,000 less 0.96 fee: 959.04 - 980.98.
    assert ctx.day == DayTotals(T0.date(), 1, 1, {"USDT": D("-21.94")}, {"USDT": D("0.96")})
    assert ctx.recent_order_times == (T0 - timedelta(seconds=30),)
    assert (ctx.trading_state, ctx.trading_state_reason) == (TradingState.REDUCING, "loss")
    assert ctx.open_orders == [resting]
    assert not evaluate(buy(), ctx, LIMITS).allowed
    assert evaluate(sell(), ctx, LIMITS).allowed
