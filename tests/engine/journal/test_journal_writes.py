"""Writes and reads: every table round-trips exactly, duplicates are handled, events resume."""

from __future__ import annotations

import asyncio
import pathlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from journal_testing import START, TickingClock

from engine.journal import (
    BalanceRow,
    DuplicateIntent,
    EventRow,
    FillRow,
    IntentRow,
    Journal,
    JournalClosed,
    OperatorActionRow,
    OrderRow,
)


def at(milliseconds: int) -> datetime:
    """The TickingClock's reading number `milliseconds`: opening a new journal takes reading 0
    (its creation time), so the k-th stamped write of a test gets at(k)."""
    return START + timedelta(milliseconds=milliseconds)


async def test_intent_round_trip_and_duplicates_refused_in_and_across_batches(
    journal: Journal,
) -> None:
    payload = {"side": "BUY", "qty": Decimal("0.00100"), "price": Decimal("43000.10")}
    first = journal.record_intent("sd-1-1", symbol="BTCUSDT", payload=payload)
    same_batch = journal.record_intent("sd-1-1", symbol="BTCUSDT", payload=payload)
    other = journal.record_intent("sd-1-2", symbol="ETHUSDT", payload={"qty": Decimal("1")})
    results = await asyncio.gather(first, same_batch, other, return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], DuplicateIntent)
    assert results[1].client_order_id == "sd-1-1"
    assert journal.stats.transactions == 1  # the refusal did not cost the batch

    with pytest.raises(DuplicateIntent, match="'sd-1-2' was already used"):
        await journal.record_intent("sd-1-2", symbol="ETHUSDT", payload={})

    assert await journal.intent("sd-1-1") == IntentRow(
        "sd-1-1", at(1), "BTCUSDT", {"price": "43000.10", "qty": "0.00100", "side": "BUY"}
    )
    assert await journal.intent("missing") is None


async def test_duplicate_intent_refused_after_reopen(journal_path: pathlib.Path) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        await journal.record_intent("sd-1-7", symbol="BTCUSDT", payload={})
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        with pytest.raises(DuplicateIntent):
            await journal.record_intent("sd-1-7", symbol="BTCUSDT", payload={})


@pytest.mark.parametrize("bad_id", ["", "x" * 37, "has space", "dot.ted", "é"])
async def test_client_order_ids_follow_the_exchange_alphabet(journal: Journal, bad_id: str) -> None:
    with pytest.raises(ValueError, match="must be 1-36 characters"):
        journal.record_intent(bad_id, symbol="BTCUSDT", payload={})
    assert journal.stats.rows == 0


async def test_floats_and_unknown_types_are_refused_before_queueing(journal: Journal) -> None:
    with pytest.raises(TypeError, match=r"payload\.legs\[1\]\.price: float 1\.5 refused"):
        journal.append_event("X", {"legs": [{"price": "1"}, {"price": 1.5}]})
    with pytest.raises(TypeError, match="BTC free: float refused; amounts are Decimal"):
        journal.set_balance("BTC", free=1.0, locked=Decimal(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-finite"):
        journal.set_balance("BTC", free=Decimal("NaN"), locked=Decimal(0))
    await journal.flush()
    assert (journal.stats.rows, journal.stats.transactions) == (0, 0)


async def test_fill_duplicates_are_ignored_and_reported(journal: Journal) -> None:
    payload = {"price": Decimal("100.5"), "qty": Decimal("0.2")}
    new = journal.record_fill("BTCUSDT", 41, client_order_id="sd-1-1", payload=payload)
    again_same_batch = journal.record_fill(
        "BTCUSDT", 41, client_order_id="sd-1-1", payload={"other": "x"}
    )
    other_symbol = journal.record_fill("ETHUSDT", 41, client_order_id="sd-1-2", payload={})
    assert await asyncio.gather(new, again_same_batch, other_symbol) == [True, False, True]
    assert await journal.record_fill("BTCUSDT", 41, client_order_id="x", payload={}) is False
    assert await journal.record_fill("BTCUSDT", 40, client_order_id="sd-1-1", payload={}) is True

    fills = [fill async for fill in journal.iter_fills()]
    assert fills == [
        FillRow("BTCUSDT", 41, "sd-1-1", at(1), {"price": "100.5", "qty": "0.2"}),
        FillRow("ETHUSDT", 41, "sd-1-2", at(3), {}),
        FillRow("BTCUSDT", 40, "sd-1-1", at(5), {}),
    ]
    assert await journal.last_trade_id("BTCUSDT") == 41
    assert await journal.last_trade_id("ETHUSDT") == 41
    assert await journal.last_trade_id("SOLUSDT") is None


async def test_orders_upsert_and_load_separates_open_from_recent_terminal(
    journal: Journal,
) -> None:
    for number in range(5):
        journal.record_intent(f"sd-1-{number}", symbol="BTCUSDT", payload={"n": number})
    journal.upsert_order(
        "sd-1-0", symbol="BTCUSDT", state="NEW", terminal=False, payload={"filled": "0"}
    )
    journal.upsert_order(
        "sd-1-0", symbol="BTCUSDT", state="PARTIALLY_FILLED", terminal=False,
        payload={"filled": Decimal("0.1")},
    )  # fmt: skip
    for number in (1, 2, 3):
        journal.upsert_order(
            f"sd-1-{number}", symbol="BTCUSDT", state="FILLED", terminal=True, payload={}
        )
    await journal.flush()

    snapshot = await journal.load(recent_terminal_orders=2)
    assert snapshot.open_orders == (
        OrderRow("sd-1-0", "BTCUSDT", "PARTIALLY_FILLED", False, at(7), {"filled": "0.1"}),
    )
    assert [order.client_order_id for order in snapshot.recent_terminal_orders] == [
        "sd-1-2",
        "sd-1-3",
    ]
    # Intents not yet settled: one with an open order, one never sent (no order row at all).
    assert [intent.client_order_id for intent in snapshot.unsettled_intents] == [
        "sd-1-0",
        "sd-1-4",
    ]
    assert await journal.order("sd-1-1") == OrderRow("sd-1-1", "BTCUSDT", "FILLED", True, at(8), {})
    exported = [order.client_order_id async for order in journal.iter_orders()]
    assert exported == ["sd-1-0", "sd-1-1", "sd-1-2", "sd-1-3"]


async def test_load_can_limit_fills_to_symbols(journal: Journal) -> None:
    for trade_id, symbol in enumerate(["BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT"]):
        journal.record_fill(symbol, trade_id, client_order_id="sd-1-1", payload={})
    await journal.flush()
    everything = await journal.load()
    assert [(f.symbol, f.trade_id) for f in everything.fills] == [
        ("BTCUSDT", 0),
        ("ETHUSDT", 1),
        ("BTCUSDT", 2),
        ("SOLUSDT", 3),
    ]
    some = await journal.load(fill_symbols={"BTCUSDT", "SOLUSDT"})
    assert [(f.symbol, f.trade_id) for f in some.fills] == [
        ("BTCUSDT", 0),
        ("BTCUSDT", 2),
        ("SOLUSDT", 3),
    ]


async def test_balances_counters_and_state_round_trip(journal: Journal) -> None:
    journal.set_balance("BTC", free=Decimal("0.00012300"), locked=Decimal("0"))
    journal.set_balance("USDT", free=Decimal("1000"), locked=Decimal("25.5"))
    journal.set_balance("BTC", free=Decimal("0.5"), locked=Decimal("0.1"))
    journal.advance_counter("client_order_id", 7)
    journal.advance_counter("client_order_id", 3)  # never goes back
    journal.advance_counter("orders.2026-01-02", 1)
    journal.set_state("trading_state", "HALTED")
    journal.set_state("halt_reason", {"why": "journal test", "at": START})
    journal.set_state("trading_state", "ACTIVE")
    await journal.flush()

    snapshot = await journal.load()
    assert snapshot.balances == {
        "BTC": BalanceRow("BTC", Decimal("0.5"), Decimal("0.1"), at(3)),
        "USDT": BalanceRow("USDT", Decimal("1000"), Decimal("25.5"), at(2)),
    }
    assert str(snapshot.balances["USDT"].locked) == "25.5"
    assert snapshot.counters == {"client_order_id": 7, "orders.2026-01-02": 1}
    assert snapshot.state == {
        "halt_reason": {"at": "2026-01-02T03:04:05.000000+00:00", "why": "journal test"},
        "trading_state": "ACTIVE",
    }
    assert await journal.max_counter("client_order_id") == 7
    assert await journal.max_counter("never") is None


async def test_operator_actions_are_audited_in_order(journal: Journal) -> None:
    journal.record_operator_action(
        "halt", {"reason": "lunch"}, os_user="alice", terminal="/dev/pts/3",
        confirmed=True, result="ok",
    )  # fmt: skip
    journal.record_operator_action(
        "order", {"symbol": "BTCUSDT", "qty": Decimal("0.01")}, os_user="alice",
        terminal="/dev/pts/3", confirmed=False, result="refused: not confirmed",
    )  # fmt: skip
    await journal.flush()
    assert [row async for row in journal.iter_operator_actions()] == [
        OperatorActionRow(1, at(1), "alice", "/dev/pts/3", "halt", {"reason": "lunch"}, True, "ok"),
        OperatorActionRow(
            2, at(2), "alice", "/dev/pts/3", "order", {"qty": "0.01", "symbol": "BTCUSDT"},
            False, "refused: not confirmed",
        ),
    ]  # fmt: skip


async def test_event_seq_is_strictly_increasing_and_resumable(
    journal_path: pathlib.Path, clock: TickingClock
) -> None:
    async with await Journal.open(
        journal_path, mode="sim", account="default", clock=clock
    ) as journal:
        first = [journal.append_event("Tick", {"n": n}) for n in range(3)]
        assert await asyncio.gather(*first) == [1, 2, 3]
        assert await journal.append_event("Tick", {"n": 3}) == 4
        assert await journal.events_since(2, limit=10) == [
            EventRow(3, at(3), "Tick", {"n": 2}),
            EventRow(4, at(4), "Tick", {"n": 3}),
        ]
    async with await Journal.open(
        journal_path, mode="sim", account="default", clock=clock
    ) as journal:
        assert await journal.last_event_seq() == 4
        assert await journal.append_event("Tick", {"n": 4}) == 5
        # A client resuming from seq 1, two at a time, sees every event once and in order.
        seen: list[int] = []
        cursor = 1
        while batch := await journal.events_since(cursor, limit=2):
            seen.extend(event.seq for event in batch)
            cursor = batch[-1].seq
        assert seen == [2, 3, 4, 5]
        assert (await journal.load()).last_event_seq == 5


async def test_exports_page_through_large_tables(journal: Journal) -> None:
    for trade_id in range(1203):  # more than two pages of 500
        journal.record_fill("BTCUSDT", trade_id, client_order_id="sd-1-1", payload={})
    await journal.flush()
    trade_ids = [fill.trade_id async for fill in journal.iter_fills()]
    assert trade_ids == list(range(1203))


async def test_close_commits_queued_writes_then_refuses_more(
    journal_path: pathlib.Path,
) -> None:
    journal = await Journal.open(journal_path, mode="sim", account="default")
    queued = [journal.append_event("Late", {"n": n}) for n in range(100)]
    await journal.close()
    assert [future.result() for future in queued] == list(range(1, 101))
    with pytest.raises(JournalClosed):
        await journal.append_event("AfterClose", {})
    async with await Journal.open(journal_path, mode="sim", account="default") as reopened:
        assert await reopened.last_event_seq() == 100


async def test_given_timestamps_are_stored_in_utc(journal: Journal) -> None:
    from datetime import timezone

    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 4, 0, 0, 250000, tzinfo=paris_winter)
    assert await journal.append_event("T", {}, ts=moment) == 1
    [event] = await journal.events_since(0)
    assert event.ts == datetime(2026, 1, 2, 3, 0, 0, 250000, tzinfo=UTC)
    assert event.ts.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive datetime"):
        journal.append_event("T", {}, ts=datetime(2026, 1, 2))  # noqa: DTZ001
