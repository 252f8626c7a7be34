"""Incremental state: record formats, deltas that hold exactly the changed rows, merging."""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from simcore_helpers import SEED, apply_op, random_ops, scenario_exchange, small_book_config

from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange
from engine.sim.core.orders import Order, OrderList, Trade
from engine.sim.core.persist import merge_deltas

D = Decimal
SOL = "SOLUSDT"


def order_ids(delta: dict[str, Any]) -> list[int]:
    return [row["order_id"] for row in delta["orders"]]


def trade_keys(delta: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return [(row[0], row[1], row[11]) for row in delta["trades"]]


def list_ids(delta: dict[str, Any]) -> list[int]:
    return [row["order_list_id"] for row in delta["lists"]]


def small_exchange() -> tuple[Exchange, int]:
    exchange = Exchange(clock=ManualClock(), seed=SEED, config=small_book_config())
    account = exchange.create_account({"USDT": D(100_000), "SOL": D(1_000)})
    return exchange, account


def limit(exchange: Exchange, account: int, side: str, qty: str, price: str) -> int:
    params = {"symbol": SOL, "side": side, "type": "LIMIT", "timeInForce": "GTC"}
    placed = exchange.new_order(account, params | {"quantity": qty, "price": price})
    order_id: int = placed["orderId"]
    return order_id


def test_record_formats_are_those_of_the_files_already_written() -> None:
    """Hand-written to_state gives exactly what the dataclasses.asdict version gave."""
    order = Order(
        symbol=SOL,
        order_id=7,
        account_id=2,
        client_order_id="c-7",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        time_in_force="GTC",
        orig_qty=D("1.500"),
        price=D("99.50"),
        stop_price=D("99.60"),
        quote_order_qty=D(0),
        stp_mode="EXPIRE_MAKER",
        time=1_000,
        update_time=1_200,
        trailing_delta=150,
        trailing_time=1_100,
        trail_extreme=D("101.25"),
        iceberg_qty=D("0.500"),
        strategy_id=9,
        strategy_type=1_000_000,
        order_list_id=3,
        working_time=1_150,
        status="PARTIALLY_FILLED",
        executed_qty=D("0.250"),
        cum_quote=D("24.8750"),
        prevented_qty=D("0.100"),
        prevented_match_id=4,
        expiry_reason="OCO_TRIGGER",
        triggered=True,
        resting=True,
        lock_asset="SOL",
        locked=D("1.150"),
        seq=42,
    )
    old_format = {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(order).items()}
    assert order.to_state() == old_format
    assert list(order.to_state()) == list(old_format)
    assert Order.from_state(json.loads(json.dumps(order.to_state()))) == order
    bare = Order(SOL, 8, 2, "c-8", "BUY", "LIMIT", "GTC", D(1), D(99), D(0), D(0), "NONE", 5, 5)
    assert bare.to_state()["trail_extreme"] is None
    assert Order.from_state(bare.to_state()) == bare

    order_list = OrderList(3, SOL, 2, "list-3", 1_000, [7, 8], "SOL", D("1.500"))
    old_list = asdict(order_list) | {"locked": "1.500"}
    assert order_list.to_state() == old_list
    assert OrderList.from_state(json.loads(json.dumps(old_list))) == order_list
    row = order_list.to_state()
    row["order_ids"].append(99)  # rows are copies: encoding them later cannot see changes
    assert order_list.order_ids == [7, 8]

    trade = Trade(SOL, 5, 7, 3, 2, D("99.50"), D("0.250"), D("24.8750"), D("0.02"), "USDT", 9, 0, 1)
    assert Trade.from_state(json.loads(json.dumps(trade.to_state()))) == trade


def test_deltas_hold_exactly_the_new_and_changed_rows() -> None:
    exchange, account = small_exchange()
    first = exchange.state_delta()
    assert (first["full"], first["orders"], first["trades"]) == (True, [], [])
    assert first["accounts"][0]["balances"]["USDT"] == ["100000", "0"]

    assert limit(exchange, account, "BUY", "1.000", "99.00") == 1
    assert limit(exchange, account, "BUY", "1.000", "98.00") == 2
    assert exchange.has_record_changes()
    delta = exchange.state_delta()
    assert (delta["full"], order_ids(delta), trade_keys(delta)) == (False, [1, 2], [])
    assert not exchange.has_record_changes()
    assert order_ids(exchange.state_delta()) == []

    exchange.cancel_order(account, {"symbol": SOL, "orderId": "1"})
    market = {"symbol": SOL, "side": "BUY", "type": "MARKET", "quantity": "1.000"}
    assert exchange.new_order(account, market)["orderId"] == 3
    delta = exchange.state_delta()
    assert order_ids(delta) == [1, 3]  # the changed one first, then the new one
    assert [row["status"] for row in delta["orders"]] == ["CANCELED", "FILLED"]
    assert trade_keys(delta) == [(SOL, 1, True)]
    assert delta["accounts"][0]["balances"]["SOL"] == ["1000.99900000", "0"]

    oco = exchange.new_oco(
        account,
        {
            "symbol": SOL,
            "side": "SELL",
            "quantity": "1.000",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": "105.00",
            "belowType": "STOP_LOSS",
            "belowStopPrice": "95.00",
        },
    )
    assert oco["orderListId"] == 1
    delta = exchange.state_delta()
    assert (order_ids(delta), list_ids(delta), trade_keys(delta)) == ([4, 5], [1], [])
    exchange.cancel_order_list(account, {"symbol": SOL, "orderListId": "1"})
    delta = exchange.state_delta()
    assert (order_ids(delta), list_ids(delta)) == ([4, 5], [1])
    assert delta["lists"][0]["list_order_status"] == "ALL_DONE"

    exchange.set_price(SOL, D("97.50"))  # the market moves through the resting buy at 98.00
    assert exchange.has_record_changes()
    delta = exchange.state_delta()
    assert (order_ids(delta), list_ids(delta), trade_keys(delta)) == ([2], [], [(SOL, 2, True)])
    assert delta["orders"][0]["status"] == "FILLED"
    quiet = exchange.state_delta()
    assert (order_ids(quiet), list_ids(quiet), trade_keys(quiet)) == ([], [], [])


def test_a_trailing_stop_is_in_the_delta_when_its_extreme_moves() -> None:
    exchange, account = small_exchange()
    params = {"symbol": SOL, "side": "SELL", "type": "STOP_LOSS", "quantity": "1.000"}
    exchange.new_order(account, params | {"trailingDelta": "500"})
    assert order_ids(exchange.state_delta()) == [1]
    exchange.set_price(SOL, D("101.00"))  # a new high: the extreme follows, nothing reported
    assert not exchange.has_record_changes()
    delta = exchange.state_delta()
    assert order_ids(delta) == [1]
    assert delta["orders"][0]["trail_extreme"] == "101.00"
    exchange.set_price(SOL, D("100.50"))  # below the high, above the trigger: no change
    assert order_ids(exchange.state_delta()) == []


def test_accumulated_deltas_rebuild_the_exchange_at_every_point() -> None:
    """Whatever the operations (fills, STP, stops, trailing stops, OCOs, market moves), the
    first delta and every later one, merged, hold the complete state."""
    exchange, clock, accounts = scenario_exchange()
    saved = exchange.state_delta()
    assert saved["full"] is True
    for number, op in enumerate(random_ops(random.Random(11), 360), start=1):
        apply_op(exchange, clock, accounts, op)
        saved = merge_deltas(saved, exchange.state_delta())
        if number % 30 == 0:
            state = json.loads(json.dumps(saved))
            rebuilt = Exchange.from_state(state, clock=ManualClock(clock.now_ms()))
            assert rebuilt.to_state() == exchange.to_state(), number
    assert len(saved["orders"]) == len(exchange.to_state()["orders"]) > 100
    assert len(saved["trades"]) > 50


def test_mark_saved_starts_the_deltas_from_the_restored_state() -> None:
    exchange, account = small_exchange()
    limit(exchange, account, "BUY", "1.000", "99.00")
    state = json.loads(json.dumps(exchange.to_state()))

    unsaved = Exchange.from_state(state, clock=ManualClock())
    whole = unsaved.state_delta()
    assert (whole["full"], order_ids(whole)) == (True, [1])

    restored = Exchange.from_state(state, clock=ManualClock())
    restored.mark_saved()
    assert not restored.has_record_changes()
    delta = restored.state_delta()
    assert (delta["full"], order_ids(delta), delta["next_order_id"][SOL]) == (False, [], 2)
    assert limit(restored, account, "SELL", "1.000", "101.00") == 2
    assert order_ids(restored.state_delta()) == [2]


def test_merging_keeps_first_positions_and_newest_rows() -> None:
    def delta(full: bool, orders: list[tuple[int, str]], now: int) -> dict[str, Any]:
        rows = [{"symbol": SOL, "order_id": i, "status": s} for i, s in orders]
        return {"full": full, "now": now, "orders": rows, "lists": [], "trades": []}

    older = delta(False, [(1, "NEW"), (2, "NEW")], 10)
    newer = delta(False, [(3, "NEW"), (1, "FILLED")], 20)
    merged = merge_deltas(older, newer)
    assert [(r["order_id"], r["status"]) for r in merged["orders"]] == [
        (1, "FILLED"),
        (2, "NEW"),
        (3, "NEW"),
    ]
    assert (merged["full"], merged["now"]) == (False, 20)
    assert merge_deltas(delta(True, [(1, "NEW")], 10), newer)["full"] is True
    replacing = delta(True, [(9, "NEW")], 30)
    assert merge_deltas(older, replacing) == replacing
