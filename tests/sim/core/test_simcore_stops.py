"""Stop and take-profit orders: trigger directions, the limit variants, trailing stops."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from simcore_helpers import Env


def sol(env: Env, price: str) -> None:
    env.ex.set_price("SOLUSDT", D(price))


@pytest.mark.parametrize(
    ("side", "order_type", "stop", "stay", "cross", "fill_price"),
    [
        ("SELL", "STOP_LOSS", "99.00", "99.01", "98.50", "98.49000000"),
        ("BUY", "STOP_LOSS", "101.00", "100.99", "101.20", "101.21000000"),
        ("SELL", "TAKE_PROFIT", "101.00", "100.99", "101.20", "101.19000000"),
        ("BUY", "TAKE_PROFIT", "99.00", "99.01", "98.50", "98.51000000"),
    ],
)
def test_stop_market_orders_trigger_on_the_last_price_in_their_direction(
    env: Env, side: str, order_type: str, stop: str, stay: str, cross: str, fill_price: str
) -> None:
    alice = env.account(USDT="10000", SOL="10")
    placed = env.order(alice, side=side, type=order_type, quantity="5", stopPrice=stop)
    query = {"symbol": "SOLUSDT", "orderId": str(placed["orderId"])}
    waiting = env.ex.get_order(alice, query)
    assert (waiting["status"], waiting["isWorking"], waiting["workingTime"]) == ("NEW", False, -1)
    assert waiting["stopPrice"] == f"{D(stop):.8f}"
    sol(env, stay)
    assert env.ex.get_order(alice, query)["status"] == "NEW"
    env.clock.advance(1000)
    sol(env, cross)
    done = env.ex.get_order(alice, query)
    assert (done["status"], done["isWorking"]) == ("FILLED", True)
    assert done["workingTime"] == env.clock.now_ms()
    trade = env.ex.my_trades(alice, {"symbol": "SOLUSDT"})[0]
    assert (trade["price"], trade["qty"], trade["isMaker"]) == (fill_price, "5.00000000", False)
    env.conserved()


def test_stop_locks_while_waiting_and_a_buy_stop_market_pays_from_free(env: Env) -> None:
    alice = env.account(USDT="1000", SOL="10")
    env.order(alice, side="SELL", type="STOP_LOSS", quantity="4", stopPrice="99")
    assert env.balance(alice, "SOL") == ("6.00000000", "4.00000000")
    env.order(alice, side="BUY", type="STOP_LOSS", quantity="5", stopPrice="101")
    assert env.balance(alice, "USDT") == ("495.00000000", "505.00000000")  # 5 x stop price
    sol(env, "102")
    # bought 5 at 102.01 = 510.05 from the whole free balance once the lock was released
    assert env.balance(alice, "USDT") == ("489.95000000", "0.00000000")
    env.conserved()


def test_stop_limit_becomes_a_resting_limit_order_when_triggered(env: Env) -> None:
    alice = env.account(SOL="10")
    recorder = env.record(alice)
    placed = env.order(
        alice, side="SELL", type="STOP_LOSS_LIMIT", quantity="5", stopPrice="99.00",
        price="98.90", timeInForce="GTC",
    )  # fmt: skip
    order_id = placed["orderId"]
    sol(env, "98.50")  # bids at 98.49 are below the limit: it rests
    working = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(order_id)})
    assert (working["status"], working["isWorking"], working["type"]) == (
        "NEW",
        True,
        "STOP_LOSS_LIMIT",
    )
    assert env.ex.book_ticker({"symbol": "SOLUSDT"})["askPrice"] == "98.51000000"
    sol(env, "99.50")  # the market comes back through 98.90
    assert env.status(alice, order_id) == "FILLED"
    reports = recorder.reports(order_id)
    assert [(r["x"], r["X"], r["w"]) for r in reports] == [
        ("NEW", "NEW", False),
        ("NEW", "NEW", True),
        ("TRADE", "FILLED", False),
    ]
    assert (reports[2]["L"], reports[2]["m"]) == ("98.90000000", True)
    assert "W" not in reports[0] and reports[1]["W"] == env.clock.now_ms()


def test_trailing_stop_without_stop_price_trails_from_placement(env: Env) -> None:
    alice = env.account(SOL="10")
    placed = env.order(alice, side="SELL", type="STOP_LOSS", quantity="2", trailingDelta="100")
    order = env.ex.get_order(alice, {"symbol": "SOLUSDT", "orderId": str(placed["orderId"])})
    assert (order["trailingDelta"], order["trailingTime"]) == (100, env.clock.now_ms())
    for price in ("102.00", "101.00", "100.99"):  # highest 102: triggers at 102 * 0.99
        sol(env, price)
        assert env.status(alice, placed["orderId"]) == "NEW"
    sol(env, "100.98")
    assert env.status(alice, placed["orderId"]) == "FILLED"
    assert env.ex.my_trades(alice, {"symbol": "SOLUSDT"})[0]["price"] == "100.97000000"


def test_trailing_take_profit_with_stop_price_starts_trailing_at_the_stop(env: Env) -> None:
    alice = env.account(SOL="10")
    recorder = env.record(alice)
    placed = env.order(
        alice, side="SELL", type="TAKE_PROFIT", quantity="2", stopPrice="102.00",
        trailingDelta="100",
    )  # fmt: skip
    sol(env, "101.00")
    sol(env, "99.00")  # a 2% fall before tracking started does nothing
    assert env.status(alice, placed["orderId"]) == "NEW"
    env.clock.advance(500)
    sol(env, "103.00")  # tracking starts
    sol(env, "104.00")
    sol(env, "102.97")  # 104 * 0.99 = 102.96 not reached
    assert env.status(alice, placed["orderId"]) == "NEW"
    sol(env, "102.96")
    assert env.status(alice, placed["orderId"]) == "FILLED"
    first = recorder.reports(placed["orderId"])[0]
    assert (first["d"], first["D"]) == (100, -1)
    assert recorder.reports(placed["orderId"])[-1]["D"] == env.clock.now_ms()


def test_trailing_buy_stop_triggers_on_a_rise_from_the_lowest_price(env: Env) -> None:
    alice = env.account(USDT="1000")
    placed = env.order(alice, side="BUY", type="STOP_LOSS", quantity="1", trailingDelta="200")
    sol(env, "95.00")
    sol(env, "96.89")  # 95 * 1.02 = 96.90
    assert env.status(alice, placed["orderId"]) == "NEW"
    sol(env, "96.90")
    assert env.status(alice, placed["orderId"]) == "FILLED"


def test_a_taker_trade_moves_the_last_price_and_can_trigger_stops(env: Env) -> None:
    alice = env.account(USDT="100000")
    bob = env.account(USDT="1000")
    stop = env.order(bob, side="BUY", type="STOP_LOSS", quantity="1", stopPrice="100.02")
    env.market(alice, "BUY", "20")  # last trade at 100.02
    assert env.ex.ticker_price({"symbol": "SOLUSDT"})["price"] == "100.02000000"
    assert env.status(bob, stop["orderId"]) == "FILLED"
    # the stop took the rest of the 100.02 level
    assert env.ex.my_trades(bob, {"symbol": "SOLUSDT"})[0]["price"] == "100.02000000"
