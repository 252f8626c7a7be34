"""The journal's checkpoints run on a connection of their own, not inside the writer's commits.

Each test would fail if the writer went back to SQLite's default automatic checkpoint (every
1,000 log pages, inside the commit that crosses it), or if commits stopped asking for passes.
"""

from __future__ import annotations

import logging
import pathlib

import pytest
from journal_testing import TickingClock, inspect

from engine.journal import Journal
from engine.journal.checkpointer import BACKSTOP_PAGES

PAYLOAD = {"text": "x" * 3000}  # about one 4 KiB page per event row


def _wal_bytes(journal_path: pathlib.Path) -> int:
    return journal_path.with_name(journal_path.name + "-wal").stat().st_size


async def _write_pages(journal: Journal, pages: int, per_commit: int = 50) -> None:
    """About `pages` log pages of event rows, `per_commit` rows per transaction."""
    for _ in range(pages // per_commit):
        for _ in range(per_commit):
            journal.append_event("bench", PAYLOAD)
        await journal.flush()


async def test_the_writer_checkpoints_only_as_a_backstop(journal: Journal) -> None:
    value = await journal._write_conn.execute("PRAGMA wal_autocheckpoint")
    assert (await value.fetchone())[0] == BACKSTOP_PAGES


async def test_commits_ask_for_a_pass_that_copies_the_whole_log(journal: Journal) -> None:
    await _write_pages(journal, 300)
    await journal.checkpointer.settled()
    assert journal.checkpointer.passes >= 1
    busy, logged, copied = journal.checkpointer.last or (None, None, None)
    assert busy == 0 and logged is not None and logged > 0 and copied == logged


async def test_the_log_starts_over_after_each_pass_so_its_file_stays_small(
    journal: Journal, journal_path: pathlib.Path
) -> None:
    # 1,500 pages per round: past SQLite's default automatic checkpoint (1,000), far below the
    # backstop. Without passes the log would hold every round, 6,000 pages (24 MiB).
    sizes = []
    for _ in range(4):
        await _write_pages(journal, 1_500)
        await journal.checkpointer.settled()
        sizes.append(_wal_bytes(journal_path))
    assert max(sizes) < 3_000 * 4096, sizes
    # Every row is in the file and readable after a reopen.
    await journal.close()
    assert inspect(journal_path, "SELECT count(*) FROM events") == [6_000]


async def test_a_failed_pass_is_logged_and_counted_and_writes_go_on(
    journal_path: pathlib.Path, clock: TickingClock, caplog: pytest.LogCaptureFixture
) -> None:
    journal = await Journal.open(journal_path, mode="sim", account="default", clock=clock)
    try:
        await journal._checkpoint_conn.close()
        with caplog.at_level(logging.WARNING, logger="engine.journal.checkpointer"):
            assert await journal.checkpointer.run_pass() is None
        assert journal.checkpointer.failures == 1
        assert "journal checkpoint failed" in caplog.text
        seq = await journal.append_event("after", {"ok": True})
        assert seq >= 1 and journal.failure is None
    finally:
        await journal.close()
    assert inspect(journal_path, "SELECT count(*) FROM events WHERE type = 'after'") == [1]
