"""A maintenance: a symbol that is not TRADING refuses new orders, its price stands still, its
open orders may be expired by the exchange, and it trades again once back to TRADING."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from simcore_helpers import Env, raises

from engine.sim.core.clock import ManualClock
from engine.sim.core.errors import SimError
from engine.sim.core.exchange import Exchange

OCO = {
    "symbol": "SOLUSDT",
    "side": "SELL",
    "quantity": "1",
    "aboveType": "LIMIT_MAKER",
    "abovePrice": "102.00",
    "belowType": "STOP_LOSS_LIMIT",
    "belowStopPrice": "98.00",
    "belowPrice": "97.90",
    "belowTimeInForce": "GTC",
}


def _status(env: Env, symbol: str = "SOLUSDT") -> str:
    listed: str = env.ex.exchange_info({"symbol": symbol})["symbols"][0]["status"]
    return listed


def test_a_symbol_in_break_refuses_new_orders_and_stands_still(env: Env) -> None:
    alice = env.account(USDT="1000", SOL="5")
    resting = env.limit(alice, "BUY", "1", "99")
    assert env.ex.set_symbol_status("SOLUSDT", "BREAK") == 0
    assert (_status(env), _status(env, "BTCUSDT")) == ("BREAK", "TRADING")
    raises(-2010, "Market is closed.", lambda: env.market(alice, "BUY", "1"))
    raises(-2010, "Market is closed.", lambda: env.limit(alice, "SELL", "1", "150"))
    raises(-2010, "Market is closed.", lambda: env.ex.new_oco(alice, OCO))
    last = env.ex.ticker_price({"symbol": "SOLUSDT"})["price"]
    env.ex.set_price("SOLUSDT", D("90"))  # would cross the resting buy at 99
    env.ex.step_market(5)
    assert env.ex.ticker_price({"symbol": "SOLUSDT"})["price"] == last
    assert env.status(alice, resting["orderId"]) == "NEW"
    assert (
        env.ex.new_order(  # other symbols trade on
            alice, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "10"}
        )["status"]
        == "FILLED"
    )
    env.ex.cancel_order(alice, {"symbol": "SOLUSDT", "orderId": str(resting["orderId"])})
    assert env.ex.set_symbol_status("SOLUSDT", "TRADING") == 0
    assert _status(env) == "TRADING"
    assert env.market(alice, "BUY", "1")["status"] == "FILLED"
    env.conserved()


def test_expire_open_ends_every_open_order_of_the_symbol_as_expired(env: Env) -> None:
    alice, bob = env.account(USDT="1000", SOL="5"), env.account(USDT="1000")
    recorder = env.record(alice)
    buy = env.limit(alice, "BUY", "1", "99")
    env.ex.new_oco(alice, OCO)
    other = env.limit(bob, "BUY", "2", "98")
    kept = env.ex.new_order(
        alice,
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.0001", "price": "50000"},
    )  # fmt: skip
    recorder.clear()
    assert env.ex.set_symbol_status("SOLUSDT", "HALT", expire_open=True) == 4
    assert env.status(alice, buy["orderId"]) == "EXPIRED"
    assert env.status(bob, other["orderId"]) == "EXPIRED"
    assert env.status(alice, kept["orderId"], "BTCUSDT") == "NEW"
    assert env.ex.open_orders(alice, {"symbol": "SOLUSDT"}) == []
    reports = recorder.reports()
    assert [(r["i"], r["X"], r["x"]) for r in reports[:1]] == [
        (buy["orderId"], "EXPIRED", "EXPIRED")
    ]
    assert sorted((r["X"], r["x"]) for r in reports) == [("EXPIRED", "EXPIRED")] * 3
    assert env.balance(alice, "SOL") == ("5.00000000", "0.00000000")
    assert env.balance(bob, "USDT") == ("1000.00000000", "0.00000000")
    env.conserved()


def test_symbol_status_refuses_what_binance_does_not_list() -> None:
    from engine.sim.core.clock import ManualClock
    from engine.sim.core.exchange import Exchange

    exchange = Exchange(clock=ManualClock(0), seed=1)
    with pytest.raises(ValueError, match="status must be one of PRE_TRADING, TRADING"):
        exchange.set_symbol_status("SOLUSDT", "CLOSED")
    with pytest.raises(SimError):
        exchange.set_symbol_status("NOPEUSDT", "BREAK")


def test_a_maintenance_outlasts_a_restart_of_the_exchange(env: Env) -> None:
    """The state keeps the symbols not TRADING: a restarted `spotdesk sim` still refuses them."""
    alice = env.account(USDT="1000")
    env.ex.set_symbol_status("SOLUSDT", "HALT")
    state = json.loads(json.dumps(env.ex.to_state()))
    restarted = Env(env.clock, Exchange.from_state(state, clock=ManualClock(env.clock.now_ms())))
    assert (_status(restarted), _status(restarted, "BTCUSDT")) == ("HALT", "TRADING")
    raises(-2010, "Market is closed.", lambda: restarted.market(alice, "BUY", "1"))
    restarted.ex.set_symbol_status("SOLUSDT", "TRADING")
    state = restarted.ex.to_state()
    assert state["symbol_status"] == {}
    del state["symbol_status"]  # a state saved before maintenances were kept
    again = Env(env.clock, Exchange.from_state(state, clock=ManualClock(env.clock.now_ms())))
    assert _status(again) == "TRADING"
