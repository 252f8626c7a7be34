"""A journal whose order rows are behind their committed fills and events (as rows written apart
from them could be): the restart moves the orders forward, books each fill once, and trades."""

from __future__ import annotations

import json
import pathlib
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine_testkit import assert_matches_oracle, engine_for, new_account, started, submit, until

from engine.core.intents import OrderIntent
from engine.core.reports import FillReport
from engine.core.types import OrderState, OrderType, Side
from engine.journal import FillRow, IntentRow, JournalSnapshot, OrderRow
from engine.orders import OrderBook
from engine.orders.transitions import order_from_intent
from engine.service.api import Outcome
from engine.service.records import fill_payload, intent_from_payload, intent_payload, order_payload
from engine.service.restore import restore_book
from engine.sim.runner import SimServer

BTC = "BTCUSDT"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _positions(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("symbol", "qty", "avg_entry", "realized_pnl", "fees")
    return [tuple(position[k] for k in keys) for position in snapshot["positions"]]


def _put_rows_back_to_their_intents(path: pathlib.Path, cids: list[str]) -> int:
    """Each order's row as it was first written (PENDING_NEW, no exchange id, nothing booked),
    while its fills and its events up to FILLED stay committed. Returns the last event's seq."""
    conn = sqlite3.connect(path)
    try:
        for cid in cids:
            [(raw,)] = conn.execute("SELECT payload FROM intents WHERE client_order_id = ?", (cid,))
            stale = order_payload(order_from_intent(intent_from_payload(json.loads(raw))))
            conn.execute(
                "UPDATE orders SET state = ?, terminal = 0, payload = ? WHERE client_order_id = ?",
                (stale["state"], json.dumps(stale), cid),
            )
        conn.commit()
        [(last_seq,)] = conn.execute("SELECT max(seq) FROM events")
        return int(last_seq)
    finally:
        conn.close()


async def test_rows_behind_their_fills_come_back_filled_and_booked_once(
    sim: SimServer, tmp_path: pathlib.Path
) -> None:
    account = await new_account(sim, {"USDT": "200000"})
    async with started(engine_for(sim, account, tmp_path)) as first:
        by_qty = await submit(first, symbol=BTC, side="buy", type="market", quantity="0.01")
        by_quote = await submit(first, symbol=BTC, side="buy", type="market", quote_quantity="100")
        assert [r.outcome for r in (by_qty, by_quote)] == [Outcome.OK] * 2
        cids = [by_qty.data["client_order_id"], by_quote.data["client_order_id"]]
        await assert_matches_oracle(first, sim, account)
        before = await first.snapshot()
        executed = {cid: first.parts.find_order(cid) for cid in cids}
        journal_file = first.parts.journal.path
    assert all(o is not None and o.state is OrderState.FILLED for o in executed.values())
    restart_seq = _put_rows_back_to_their_intents(journal_file, cids)
    orders_sent = len((await sim.admin.oracle(account.account_id))["orders"])

    async with started(engine_for(sim, account, tmp_path)) as second:

        async def both_filled() -> bool:
            found = [second.parts.find_order(cid) for cid in cids]
            return all(o is not None and o.state is OrderState.FILLED for o in found)

        await until(second, both_filled)
        for cid in cids:
            order, was = second.parts.find_order(cid), executed[cid]
            assert order is not None and was is not None
            assert (order.order_id, order.cum_qty, order.filled_qty, order.fill_count) == (
                was.order_id,
                was.cum_qty,
                was.filled_qty,
                was.fill_count,
            )
        assert second.parts.gate.state.value == "ACTIVE", second.parts.gate.reason
        await second.parts.journal.flush()
        for cid in cids:  # the rows are written again as the orders now stand
            row = await second.parts.journal.order(cid)
            assert row is not None
            assert (row.state, row.terminal, row.payload["fill_count"]) == ("FILLED", True, 1)
        await assert_matches_oracle(second, sim, account)  # each fill journaled once
        after = await second.snapshot()
        assert _positions(after) == _positions(before)  # and booked once in memory
        # Nothing went backwards for subscribers, nothing was alarmed, nothing sent again.
        since = [event async for event in _events_since(second, restart_seq)]
        assert [e["event"] for e in since if e.get("order", {}).get("state") == "UNKNOWN"] == []
        assert [e for e in since if e["alarm"]] == []
        assert len((await sim.admin.oracle(account.account_id))["orders"]) == orders_sent
        another = await submit(second, symbol=BTC, side="buy", type="market", quantity="0.001")
        assert another.outcome is Outcome.OK, another.message
        assert (another.data["order"]["state"], another.data["order"]["cum_qty"]) == (
            "FILLED",
            "0.00100000",
        )


async def _events_since(engine: Any, seq: int) -> Any:
    await engine.parts.journal.flush()
    for row in await engine.parts.journal.events_since(seq, limit=10_000):
        yield row.payload


def _stale(
    cid: str, trade_id: int, qty: str | None, quote_qty: str | None, fill_qty: str
) -> dict[str, Any]:
    """An intent, its order row as first written, and the one fill journaled for it (its
    exchange order id is ten times its trade id)."""
    intent = OrderIntent(
        cid,
        BTC,
        Side.BUY,
        OrderType.MARKET,
        None if qty is None else Decimal(qty),
        T0,
        quote_qty=None if quote_qty is None else Decimal(quote_qty),
    )
    fill = FillReport(
        BTC, trade_id, trade_id * 10, Side.BUY, Decimal(fill_qty), Decimal(90000),
        Decimal(fill_qty) * 90000, Decimal(0), None, T0,
    )  # fmt: skip
    return {
        "intent": IntentRow(cid, T0, BTC, intent_payload(intent)),
        "row": OrderRow(
            cid, BTC, "PENDING_NEW", False, T0, order_payload(order_from_intent(intent))
        ),
        "fill": FillRow(BTC, trade_id, cid, T0, fill_payload(fill, cid, None)),
    }


def test_a_row_behind_its_fills_is_moved_forward_not_taken_for_in_flight() -> None:
    full = _stale("sd-t-1", 40, "0.01", None, "0.01")  # its fill completes its quantity
    by_quote = _stale("sd-t-2", 41, None, "100", "0.001")  # a quote order: filled how far, unknown
    loaded = JournalSnapshot(
        mode="sim",
        account="default",
        created_at=T0,
        instance=2,
        open_orders=(full["row"], by_quote["row"]),
        recent_terminal_orders=(),
        unsettled_intents=(full["intent"], by_quote["intent"]),
        fills=(full["fill"], by_quote["fill"]),
        balances={},
        counters={},
        state={},
        last_event_seq=9,
    )
    book = OrderBook(is_ours=lambda cid: cid.startswith("sd-"))
    restored = restore_book(book, loaded)
    assert restored.in_flight == ()
    [filled] = restored.recent
    assert (filled.client_order_id, filled.state, filled.order_id) == (
        "sd-t-1",
        OrderState.FILLED,
        400,
    )
    assert (filled.cum_qty, filled.filled_qty, filled.fill_count) == (Decimal("0.01"),) * 2 + (1,)
    assert book.get("sd-t-1") is None  # settled: it left the book for its window
    partly = book.get("sd-t-2")
    assert partly is not None
    assert (partly.state, partly.last_known_state, partly.order_id, partly.cum_qty) == (
        OrderState.PARTIALLY_FILLED,
        OrderState.PARTIALLY_FILLED,
        410,
        Decimal("0.001"),
    )
    assert book.trade_keys("sd-t-2") == ((BTC, 41),)
    assert [order.client_order_id for order in restored.forwarded] == ["sd-t-1", "sd-t-2"]
