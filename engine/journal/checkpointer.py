"""Copying the write-ahead log into the database file, off the writer's path.

SQLite checkpoints a WAL database from inside the commit that takes the log past
`wal_autocheckpoint` pages: that commit then also copies every logged page into the database
file and fsyncs it, tens of milliseconds on a busy disk, while every write queued behind it
(an order's intent among them) waits. The journal instead checkpoints from a connection of its
own, in that connection's thread: a PASSIVE checkpoint takes no write lock, so the writer keeps
committing while pages are copied. Once a pass has copied the whole log, the writer's next commit
starts the log over from its beginning, so the file stays the size of what arrives between two
passes.

The writer connection keeps SQLite's automatic checkpoint on, at a size far beyond what a pass
leaves behind, as a backstop: should passes stop (an error, or an outside reader holding an old
snapshot), the log still cannot grow without bound.

A pass runs after a commit, at most one per `pause_s`, so a burst of commits costs one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import aiosqlite

from engine.journal.connection_thread import run_in_connection_thread

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 16_384
"""The writer's own automatic checkpoint (64 MiB of 4 KiB pages): only reached when passes stop."""


class Checkpointer:
    """PASSIVE checkpoints on `conn` after commits (`committed()`), at most one per `pause_s`."""

    def __init__(self, conn: aiosqlite.Connection, *, pause_s: float = 0.25) -> None:
        self._conn = conn
        self._pause_s = pause_s
        self._due = asyncio.Event()
        self._idle = asyncio.Event()  # no pass due or running
        self._idle.set()
        self._closing = asyncio.Event()
        self.passes = 0
        self.failures = 0
        self.last: tuple[int, int, int] | None = None
        self._task = asyncio.create_task(self._run(), name="journal-checkpointer")

    def committed(self) -> None:
        """The writer committed: a pass is due (several commits before it starts share it)."""
        self._idle.clear()
        self._due.set()

    async def settled(self) -> None:
        """Return once a pass has run after the latest commit (or the checkpointer stopped)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop after the pass in progress, if any; SQLite checkpoints on the last close."""
        self._closing.set()
        self._due.set()
        await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            while True:
                if not self._due.is_set():
                    self._idle.set()
                await self._due.wait()
                if self._closing.is_set():
                    return
                self._due.clear()
                await self.run_pass()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self._pause_s)
        finally:
            self._idle.set()

    async def run_pass(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: SQLite's (busy, log pages, pages copied), None if it failed.

        A failure is logged and counted, not raised: the log keeps every committed page, the
        writer's backstop bounds its size, and the next commit asks for another pass.
        """
        try:
            result = await run_in_connection_thread(self._conn, _passive_checkpoint)
        except (sqlite3.Error, ValueError) as exc:  # ValueError: the connection is closed
            self.failures += 1
            log.warning("journal checkpoint failed (the writer's own will take over): %s", exc)
            return None
        self.passes += 1
        self.last = result
        return result


def _passive_checkpoint(db: sqlite3.Connection) -> tuple[int, int, int]:
    busy, logged, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(logged), int(copied)
