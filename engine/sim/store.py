"""SQLite persistence of the embedded exchange: its state, written incrementally, and the server's.

The file holds one row for the small state (the core's state without its history, and the
server's own) and one row per order, order list and trade. `StateFlusher` takes
`Exchange.state_delta()` on the event loop soon after a change (it costs time in proportion to
what changed, not to the history) and writes it in one transaction from a worker thread: upserts
of the changed rows and the new small state, so the file always holds a consistent state.

What a SIGKILL of the sim loses: the changes after the last committed write, i.e. at most the
flush interval (200 ms) plus one write (about a millisecond) of orders, fills and balances.
Market moves without fills are written lazily (`idle_interval_s`): the restarted sim continues
its price path from a few seconds earlier. WAL with `synchronous=NORMAL`: a committed write is
in the operating system's hands before COMMIT returns, so it survives the death of the process;
only a power loss or kernel crash may roll back the last few commits (never corrupt the file).
For a rehearsal exchange that is the right trade: FULL would add an fsync to every flush, five
times a second, and protect nothing a user of the sim can lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pathlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.sim.core.persist import (
    HISTORY_KEYS,
    list_key,
    merge_deltas,
    order_key,
    trade_key,
    trade_time,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

_TABLES = """
CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    saved_ms INTEGER NOT NULL,
    exchange TEXT NOT NULL,
    server TEXT NOT NULL
);
CREATE TABLE orders (
    seq INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (symbol, order_id)
);
CREATE TABLE order_lists (order_list_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE trades (
    seq INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    is_buyer INTEGER NOT NULL,
    time INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (symbol, trade_id, is_buyer)
);
"""
# `seq` (the rowid) is given on first insert and kept by upserts: rows load in creation order.


class StoreError(Exception):
    """The state file cannot be used (not a sim state file, or a newer schema)."""


@dataclass(frozen=True)
class Snapshot:
    """The exchange's part (`Exchange.to_state()` or `state_delta()`) and the server's own."""

    exchange: dict[str, Any]
    server: dict[str, Any]


class SimStore:
    """One SQLite file (WAL, 0600) holding the latest state; blocking, used from one thread
    at a time."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open or create the file; a file of the first schema (one JSON snapshot) is
        converted in place. StoreError if it is not a sim state file or is newer."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Created owner-only: the file holds the API secrets of the simulated accounts.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with _transaction(db):
                self._prepare(db)
        except sqlite3.DatabaseError as error:
            db.close()
            raise StoreError(f"{self.path} is not a spotdesk sim state file: {error}") from None
        except BaseException:
            db.close()
            raise
        self._db = db

    def _prepare(self, db: sqlite3.Connection) -> None:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            for statement in _statements(_TABLES):
                db.execute(statement)
            db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            return
        row = (
            db.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
            if "meta" in tables
            else None
        )
        if row is None:
            raise StoreError(f"{self.path} is not a spotdesk sim state file")
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer spotdesk (schema {version})")
        if version == 1:
            self._migrate_from_snapshot(db)

    def _migrate_from_snapshot(self, db: sqlite3.Connection) -> None:
        """Schema 1 kept the whole state as one JSON document: split it into rows."""
        saved = db.execute("SELECT exchange, server FROM snapshot WHERE id = 1").fetchone()
        for statement in _statements(_TABLES):
            db.execute(statement)
        if saved is not None:
            exchange = json.loads(saved[0]) | {"full": True}
            self._write(db, exchange, json.loads(saved[1]))
        db.execute("DROP TABLE snapshot")
        db.execute(
            "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),)
        )
        log.info("converted %s to the sim state schema %d", self.path, SCHEMA_VERSION)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    def load(self) -> Snapshot | None:
        """The saved state, whole (for `Exchange.from_state`), or None for a new file."""
        db = self._conn()
        with _transaction(db):  # one read snapshot across the tables
            row = db.execute("SELECT exchange, server FROM state WHERE id = 1").fetchone()
            if row is None:
                return None
            exchange = json.loads(row[0])
            exchange["orders"] = _rows(db, "SELECT data FROM orders ORDER BY seq")
            exchange["lists"] = _rows(db, "SELECT data FROM order_lists ORDER BY order_list_id")
            # The order of to_state(): by time and trade id, both sides of a fill as written.
            exchange["trades"] = _rows(db, "SELECT data FROM trades ORDER BY time, trade_id, seq")
        return Snapshot(exchange=exchange, server=json.loads(row[1]))

    def write(self, changes: Snapshot) -> None:
        """Apply `Exchange.state_delta()` (with "full": True, replace everything) and the
        server's state, in one transaction."""
        db = self._conn()
        with _transaction(db):
            self._write(db, changes.exchange, changes.server)

    @staticmethod
    def _write(db: sqlite3.Connection, exchange: dict[str, Any], server: dict[str, Any]) -> None:
        if exchange["full"]:
            for table in ("orders", "order_lists", "trades"):
                db.execute(f"DELETE FROM {table}")
        db.executemany(
            "INSERT INTO orders (symbol, order_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (symbol, order_id) DO UPDATE SET data = excluded.data",
            ((*order_key(row), _dumps(row)) for row in exchange["orders"]),
        )
        db.executemany(
            "INSERT INTO order_lists (order_list_id, data) VALUES (?, ?) "
            "ON CONFLICT (order_list_id) DO UPDATE SET data = excluded.data",
            ((list_key(row), _dumps(row)) for row in exchange["lists"]),
        )
        db.executemany(  # trades never change: a row written before stays
            "INSERT INTO trades (symbol, trade_id, is_buyer, time, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (symbol, trade_id, is_buyer) DO NOTHING",
            ((*trade_key(row), trade_time(row), _dumps(row)) for row in exchange["trades"]),
        )
        small = {k: v for k, v in exchange.items() if k not in HISTORY_KEYS and k != "full"}
        db.execute(
            "INSERT INTO state (id, saved_ms, exchange, server) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET saved_ms = excluded.saved_ms, "
            "exchange = excluded.exchange, server = excluded.server",
            (time.time_ns() // 1_000_000, _dumps(small), _dumps(server)),
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _rows(db: sqlite3.Connection, query: str) -> list[Any]:
    return [json.loads(data) for (data,) in db.execute(query)]


def _dumps(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


class StateFlusher:
    """Writes the exchange's changes to the store in the background, soon after they happen.

    `take` returns the changes (`Exchange.state_delta()` and the server's state); it runs on the
    event loop, which it must see between two operations, and is cheap. Encoding and the SQLite
    transaction run on a worker thread. Urgent changes are written at most `interval_s` after
    the previous write, lazy ones within `idle_interval_s`. A write that fails is kept and
    merged into the next one, so no change is ever skipped.
    """

    def __init__(
        self,
        store: SimStore,
        take: Callable[[], Snapshot],
        *,
        interval_s: float = 0.2,
        idle_interval_s: float = 5.0,
    ) -> None:
        self._store = store
        self._take = take
        self._interval_s = interval_s
        self._idle_interval_s = idle_interval_s
        self._urgent = False
        self._lazy = False
        self._unwritten: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.writes = 0

    def mark_dirty(self, urgent: bool = True) -> None:
        """Something changed: write within `interval_s` (urgent) or `idle_interval_s`."""
        if urgent:
            self._urgent = True
            self._wake.set()
        else:
            self._lazy = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sim-state-flusher")
        self._task.add_done_callback(_log_failure)

    async def _run(self) -> None:
        # Stopped by an event, not by cancelling: in Python 3.11 a wait_for that is cancelled
        # just as its event is set may swallow the cancellation.
        loop = asyncio.get_running_loop()
        last_write = loop.time() - self._interval_s
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._idle_interval_s)
            self._wake.clear()
            if not (self._urgent or self._lazy):
                continue
            pause = last_write + self._interval_s - loop.time()
            if pause > 0:  # changes that come in the meantime join this write
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), timeout=pause)
            if self._closing.is_set():
                return
            try:
                await self.flush_now()
            except Exception:  # disk full, I/O error: keep serving, try again later
                log.exception("writing the sim state to %s failed", self._store.path)
                self._lazy = True
            last_write = loop.time()

    async def flush_now(self) -> None:
        """Take the changes and write them now (whether or not anything was marked)."""
        async with self._lock:
            self._urgent = self._lazy = False
            changes = self._take()
            if self._unwritten is not None:
                changes = Snapshot(
                    merge_deltas(self._unwritten.exchange, changes.exchange), changes.server
                )
            self._unwritten = changes
            await asyncio.to_thread(self._store.write, changes)
            self._unwritten = None
            self.writes += 1

    async def close(self) -> None:
        """Stop the background task and write what changed since the last write."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush_now()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the sim state flusher stopped", exc_info=task.exception())
