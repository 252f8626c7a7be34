"""Group commit: rows share transactions, commit in call order, and failures fail closed."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Any

import aiosqlite
import pytest
from journal_testing import inspect

from engine.journal import Journal, JournalWriteError


async def test_queued_writes_share_transactions_up_to_the_batch_bound(
    journal_path: pathlib.Path,
) -> None:
    async with await Journal.open(
        journal_path, mode="sim", account="default", max_batch=128
    ) as journal:
        futures = [journal.append_event("Burst", {"n": n}) for n in range(500)]
        assert await asyncio.gather(*futures) == list(range(1, 501))
        stats = journal.stats
        assert (stats.transactions, stats.rows, stats.largest_batch) == (4, 500, 128)


async def test_concurrent_writers_awaiting_each_commit_are_grouped(journal: Journal) -> None:
    async def writer(number: int) -> list[int]:
        return [await journal.append_event("W", {"writer": number, "i": i}) for i in range(20)]

    per_writer = await asyncio.gather(*(writer(number) for number in range(50)))
    # Each round, all 50 writers are waiting on the same commit, so they share the next one.
    assert journal.stats.transactions == 20
    assert journal.stats.rows == 1000
    for seqs in per_writer:
        assert seqs == sorted(seqs)
    assert sorted(seq for seqs in per_writer for seq in seqs) == list(range(1, 1001))


async def test_an_idle_write_commits_alone_without_waiting(journal: Journal) -> None:
    assert await journal.append_event("One", {}) == 1
    assert (journal.stats.transactions, journal.stats.rows) == (1, 1)


async def test_writes_commit_in_call_order_across_tables(journal: Journal) -> None:
    order: list[str] = []
    intent = journal.record_intent("sd-1-1", symbol="BTCUSDT", payload={})
    event = journal.append_event("OrderSubmitted", {"client_order_id": "sd-1-1"})
    intent.add_done_callback(lambda _: order.append("intent"))
    event.add_done_callback(lambda _: order.append("event"))
    await event
    await asyncio.sleep(0)  # let the intent's done callback run too
    assert order == ["intent", "event"]


async def test_a_failed_write_fails_its_batch_and_everything_after(
    journal_path: pathlib.Path,
) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default"):
        pass
    [pages] = inspect(journal_path, "PRAGMA page_count")
    assert isinstance(pages, int)
    # A journal allowed to grow by two pages only: a big batch meets a "full disk".
    journal = await Journal.open(journal_path, mode="sim", account="default", max_pages=pages + 2)
    try:
        assert await journal.append_event("Small", {"n": 0}) == 1
        big_batch = [journal.append_event("Big", {"blob": "x" * 4000}) for _ in range(3)]
        results = await asyncio.gather(*big_batch, return_exceptions=True)
        assert all(isinstance(result, JournalWriteError) for result in results)
        assert str(results[0]) == (
            "journal write not committed: OperationalError: database or disk is full"
        )
        assert journal.failure == "OperationalError: database or disk is full"

        # Failed state: later writes fail at once, without touching the disk.
        later = journal.append_event("Later", {})
        assert later.done()
        with pytest.raises(JournalWriteError, match="journal is failed: OperationalError"):
            await later
        with pytest.raises(JournalWriteError):
            await journal.flush()
        assert journal.stats.transactions == 1
        # Reads still work, and show only what was committed.
        assert [event.seq for event in await journal.events_since(0)] == [1]
    finally:
        await journal.close()

    async with await Journal.open(journal_path, mode="sim", account="default") as reopened:
        events = await reopened.events_since(0)
        assert [(event.seq, event.type) for event in events] == [(1, "Small")]
        assert await reopened.append_event("AfterRestart", {}) == 2


async def test_writes_queued_behind_a_failed_batch_fail_too(journal_path: pathlib.Path) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default"):
        pass
    [pages] = inspect(journal_path, "PRAGMA page_count")
    assert isinstance(pages, int)
    async with await Journal.open(
        journal_path, mode="sim", account="default", max_pages=pages + 2, max_batch=2
    ) as journal:
        # The first batch of two already needs more than two pages; four more wait behind it.
        futures = [journal.append_event("Big", {"blob": "x" * 9000}) for _ in range(6)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert [type(result).__name__ for result in results] == ["JournalWriteError"] * 6
        assert journal.stats.transactions == 0


async def test_a_batch_of_every_check_and_kind_is_one_hop_to_the_connection_thread(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A duplicate intent, a known fill, an event and an order in one batch: the refusal checks,
    # the inserts and the commit all run in a single call to the write connection's thread.
    await journal.record_intent("sd-1-1", symbol="BTCUSDT", payload={})
    assert await journal.record_fill("BTCUSDT", 7, client_order_id="sd-1-1", payload={}) is True
    hops: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "func", fn).__name__)  # the writer sends a functools.partial
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    before = journal.stats.transactions
    results = await asyncio.gather(
        journal.record_intent("sd-1-1", symbol="BTCUSDT", payload={}),
        journal.record_intent("sd-1-2", symbol="BTCUSDT", payload={}),
        journal.record_fill("BTCUSDT", 7, client_order_id="sd-1-1", payload={}),
        journal.append_event("E", {}),
        journal.upsert_order("sd-1-2", symbol="BTCUSDT", state="NEW", terminal=False, payload={}),
        return_exceptions=True,
    )
    assert [type(result).__name__ for result in results] == [
        "DuplicateIntent",
        "NoneType",
        "bool",
        "int",
        "NoneType",
    ]
    assert results[2:4] == [False, 1]
    assert journal.stats.transactions == before + 1
    assert hops == ["_write_batch"]
