"""An order's row commits in the same transaction as the fills and events that moved it: journal
units (never split at `max_batch`, held until ended) and the pipeline that opens them."""

from __future__ import annotations

import asyncio
import json
import pathlib
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from engine.core.intents import OrderIntent
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.rules import SymbolRules
from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.journal import Journal, JournalClosed, JournalWriteError
from engine.journal import writer as writer_module
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.service.eventstream import EventHub
from engine.service.pipeline import Pipeline

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CID = "sd-t1-1"


def _rows(path: pathlib.Path, statement: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(statement).fetchall()
    finally:
        conn.close()


# -- journal units -------------------------------------------------------------------------------


async def test_a_unit_is_one_transaction_even_past_max_batch(journal_path: pathlib.Path) -> None:
    async with await Journal.open(
        journal_path, mode="sim", account="default", max_batch=2
    ) as journal:
        journal.begin_unit()
        futures = [journal.append_event("E", {"n": n}) for n in range(5)]
        journal.upsert_order(CID, symbol="BTCUSDT", state="FILLED", terminal=True, payload={})
        journal.end_unit()
        after = [journal.append_event("After", {"n": n}) for n in range(3)]
        assert await asyncio.gather(*futures, *after) == list(range(1, 9))
        # The unit (6 writes) is not cut at 2; the three writes after it are: 6, then 2 + 1.
        assert (journal.stats.transactions, journal.stats.largest_batch) == (3, 6)


async def test_writes_of_an_open_unit_wait_for_its_end(journal: Journal) -> None:
    before = journal.append_event("Before", {})
    journal.begin_unit()
    held = journal.append_event("Held", {})
    assert await before == 1
    for _ in range(5):
        await asyncio.sleep(0)
    assert not held.done()
    assert journal.stats.transactions == 1
    journal.end_unit()
    assert await held == 2
    with pytest.raises(RuntimeError, match="no journal unit is open"):
        journal.end_unit()


async def test_a_unit_left_open_at_close_is_dropped_whole(journal_path: pathlib.Path) -> None:
    journal = await Journal.open(journal_path, mode="sim", account="default")
    assert await journal.append_event("Kept", {}) == 1
    journal.begin_unit()
    dropped = journal.append_event("Dropped", {})
    row = journal.upsert_order(CID, symbol="BTCUSDT", state="NEW", terminal=False, payload={})
    await journal.close()
    for future in (dropped, row):
        with pytest.raises(JournalClosed, match="before this write's unit was complete"):
            await future
    journal.end_unit()  # the owner ending it late is harmless
    assert _rows(journal_path, "SELECT seq, type FROM events") == [(1, "Kept")]
    assert _rows(journal_path, "SELECT count(*) FROM orders") == [(0,)]


async def test_a_failure_while_a_unit_is_open_fails_the_unit_too(
    journal_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = await Journal.open(journal_path, mode="sim", account="default")
    _fail_from_batch(monkeypatch, failing=1)
    doomed = journal.append_event("Doomed", {})
    journal.begin_unit()
    held = journal.append_event("Held", {})
    with pytest.raises(JournalWriteError, match="disk is full"):
        await doomed
    with pytest.raises(JournalWriteError, match="disk is full"):
        await held
    journal.end_unit()  # the unit's writes have failed already: nothing left to end
    journal.begin_unit()
    with pytest.raises(JournalWriteError, match="journal is failed"):
        await journal.append_event("Refused", {})
    await journal.close()
    assert _rows(journal_path, "SELECT count(*) FROM events") == [(0,)]


# -- the pipeline -------------------------------------------------------------------------------


def _pipeline(journal: Journal, failures: list[str]) -> Pipeline:
    rules = SymbolRules("BTCUSDT", "TRADING", "BTC", "USDT", frozenset(OrderType))
    return Pipeline(
        journal=journal,
        book=OrderBook(is_ours=lambda cid: cid.startswith("sd-")),
        ledger=Ledger({"BTCUSDT": rules}),
        hub=EventHub(journal.events_since, last_seq=0),
        now=lambda: T0,
        fee_pricer=lambda asset, quote: None,
        on_failure=failures.append,
        halt=failures.append,
        journal_fill_count=0,
    )


def _status(state: OrderState, cum_qty: str) -> OrderStatusReport:
    return OrderStatusReport(
        symbol="BTCUSDT",
        client_order_id=CID,
        order_id=77,
        state=state,
        cum_qty=Decimal(cum_qty),
        cum_quote=Decimal(cum_qty) * 90000,
        transact_time=T0,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=Decimal("0.02"),
        price=Decimal("90000"),
    )


def _fill(trade_id: int) -> FillReport:
    return FillReport(
        symbol="BTCUSDT",
        trade_id=trade_id,
        order_id=77,
        side=Side.BUY,
        qty=Decimal("0.01"),
        price=Decimal("90000"),
        quote_qty=Decimal("900"),
        commission=Decimal("0"),
        commission_asset=None,
        time=T0,
        client_order_id=CID,
    )


def _fail_from_batch(monkeypatch: pytest.MonkeyPatch, failing: int) -> list[int]:
    """The disk fills up: every transaction from the `failing`-th on fails (SQLITE_FULL).
    Returns the sizes of the batches that reached the disk."""
    original = writer_module._write_batch
    sizes: list[int] = []

    def write_batch(batch: list[Any], next_seq: int, db: sqlite3.Connection) -> int:
        sizes.append(len(batch))
        if len(sizes) >= failing:
            raise sqlite3.OperationalError("database or disk is full")
        return original(batch, next_seq, db)

    monkeypatch.setattr(writer_module, "_write_batch", write_batch)
    return sizes


def _intent(cid: str) -> OrderIntent:
    return OrderIntent(
        cid,
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        Decimal("0.02"),
        T0,
        price=Decimal("90000"),
        time_in_force=TimeInForce.GTC,
    )


async def test_a_full_disk_never_leaves_an_order_row_behind_its_fills_and_events(
    journal_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # max_batch=2 would cut a pass's writes (events, fills, the row) into several commits.
    journal = await Journal.open(journal_path, mode="sim", account="default", max_batch=2)
    failures: list[str] = []
    pipeline = _pipeline(journal, failures)
    try:
        pipeline.record(pipeline.book.submit(_intent(CID)))
        await asyncio.sleep(0)  # the pass ends: its order row is queued
        await journal.flush()
        # One loop pass: accepted, then filled in two trades; the disk fills after one commit.
        sizes = _fail_from_batch(monkeypatch, failing=2)
        pipeline.apply(_status(OrderState.NEW, "0"))
        pipeline.apply(_status(OrderState.PARTIALLY_FILLED, "0.01"), [_fill(1)])
        pipeline.apply(_status(OrderState.FILLED, "0.02"), [_fill(2)])
        await asyncio.sleep(0)
        await journal.flush()
        # The next pass (another order) meets the full disk: none of it is written.
        pipeline.record(pipeline.book.submit(_intent("sd-t1-2")))
        await asyncio.sleep(0)
        with pytest.raises(JournalWriteError):
            await journal.flush()
    finally:
        await journal.close()
    # The filled pass (3 order events, 2 fills, 2 position events, its row): one transaction.
    assert sizes == [8, 2]
    assert failures == [
        "journal write failed: journal write not committed: "
        "OperationalError: database or disk is full"
    ]
    rows = _rows(journal_path, "SELECT client_order_id, state, terminal, payload FROM orders")
    assert [(cid, state, terminal) for cid, state, terminal, _ in rows] == [(CID, "FILLED", 1)]
    row = json.loads(rows[0][3])
    assert (row["fill_count"], row["cum_qty"], row["order_id"]) == (2, "0.02", 77)
    assert _rows(journal_path, "SELECT trade_id FROM fills ORDER BY rowid") == [(1,), (2,)]
    events = [
        json.loads(payload)["order"]
        for kind, payload in _rows(journal_path, "SELECT type, payload FROM events ORDER BY seq")
        if kind.startswith("Order")
    ]
    assert [(o["client_order_id"], o["state"]) for o in events] == [
        (CID, "PENDING_NEW"),
        (CID, "NEW"),
        (CID, "PARTIALLY_FILLED"),
        (CID, "FILLED"),
    ]
