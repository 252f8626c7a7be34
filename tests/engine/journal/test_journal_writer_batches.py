"""Batches written several rows per statement: order, upserts and counters as row by row, and
the fill de-duplication query looks each key up instead of scanning a symbol's fills."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3

from engine.journal import Journal
from engine.journal.writer import _EXISTING_FILLS


def _rows(path: pathlib.Path, statement: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(statement).fetchall()
    finally:
        conn.close()


async def test_one_batch_of_many_rows_lands_in_call_order(journal_path: pathlib.Path) -> None:
    # 103 events = 64 + 16 + 16 + 4 + 3 rows: every statement size and the row-by-row rest.
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        futures = [journal.append_event("E", {"n": n}) for n in range(103)]
        for state in ("NEW", "PARTIALLY_FILLED", "FILLED"):  # one order, three times
            journal.upsert_order(
                "sd-1-1", symbol="BTCUSDT", state=state, terminal=False, payload={}
            )
        for value in (5, 9, 2, 7):
            journal.advance_counter("client_order_id", value)
        fills = [
            journal.record_fill("BTCUSDT", trade_id, client_order_id="sd-1-1", payload={})
            for trade_id in (3, 1, 3, 2)
        ]
        assert await asyncio.gather(*futures) == list(range(1, 104))
        assert await asyncio.gather(*fills) == [True, True, False, True]
        assert (journal.stats.transactions, journal.stats.rows) == (1, 114)  # writes, not rows
    events = _rows(journal_path, "SELECT seq, payload FROM events ORDER BY seq")
    assert events == [(n + 1, f'{{"n":{n}}}') for n in range(103)]
    assert _rows(journal_path, "SELECT client_order_id, state FROM orders") == [
        ("sd-1-1", "FILLED")
    ]
    assert _rows(journal_path, "SELECT name, value FROM counters") == [("client_order_id", 9)]
    assert _rows(journal_path, "SELECT trade_id FROM fills ORDER BY rowid") == [(3,), (1,), (2,)]


async def test_known_fills_are_found_by_key_not_by_scanning_the_symbol(
    journal_path: pathlib.Path,
) -> None:
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        await journal.record_fill("BTCUSDT", 1, client_order_id="sd-1-1", payload={})
    conn = sqlite3.connect(journal_path)
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + _EXISTING_FILLS, ("[]",))]
    finally:
        conn.close()
    assert any("(symbol=? AND trade_id=?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN fills") for step in plan), plan
