"""The journal's single writer: queued rows go to SQLite in group commits, one fsync per batch.

Every write is a `PendingWrite` whose future resolves only after the transaction holding it has
committed with `synchronous=FULL`. The writer takes everything queued (up to `max_batch`) into one
transaction, so under load rows share commits instead of paying an fsync each; when idle a single
row commits at once, with no timer adding latency. Writes commit in the order they were queued,
so a resolved write also proves every earlier write durable. A batch (refusal checks, inserts,
commit) runs as one function in the connection's thread: one event-loop hop per batch.

A unit (`begin_unit` ... `end_unit`) is a run of writes that commit in one transaction, all or
nothing: while a unit is open the writer commits nothing queued since it began, and a batch cut
at `max_batch` inside a unit grows to the unit's end. The pipeline uses it so that an order's row
never commits apart from the fills and events that moved it.

Any SQLite or OS error fails every waiter of that batch and all queued writes with
`JournalWriteError`, and the writer stops: from then on writes fail at once and the engine halts.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from engine.journal.codec import encode
from engine.journal.connection_thread import run_in_connection_thread
from engine.journal.errors import DuplicateIntent, JournalClosed, JournalWriteError
from engine.journal.rows import JournalStats

log = logging.getLogger(__name__)


class WriteKind(enum.Enum):
    """What a queued write does; each kind has one statement, run for its rows with executemany."""

    INTENT = (
        "INSERT INTO intents (client_order_id, created_at, symbol, payload) VALUES (?, ?, ?, ?)"
    )
    ORDER = (
        "INSERT INTO orders (client_order_id, symbol, state, terminal, updated_at, payload)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (client_order_id) DO UPDATE SET"
        " symbol = excluded.symbol, state = excluded.state, terminal = excluded.terminal,"
        " updated_at = excluded.updated_at, payload = excluded.payload"
    )
    FILL = (
        "INSERT INTO fills (symbol, trade_id, client_order_id, ts, payload) VALUES (?, ?, ?, ?, ?)"
    )
    BALANCE = (
        "INSERT INTO balances (asset, free, locked, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (asset) DO UPDATE SET"
        " free = excluded.free, locked = excluded.locked, updated_at = excluded.updated_at"
    )
    EVENT = "INSERT INTO events (seq, ts, type, payload) VALUES (?, ?, ?, ?)"
    OPERATOR_ACTION = (
        "INSERT INTO operator_actions (ts, os_user, terminal, action, params, confirmed, result)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    # Counters never go back: client order id counters must survive restarts (R8, D9).
    COUNTER = (
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)"
    )
    STATE = (
        "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
    )
    BARRIER = ""  # no row: resolves once everything queued before it has committed


@dataclass(slots=True)
class PendingWrite:
    """One queued row: its statement kind, its parameters and the future its caller awaits."""

    kind: WriteKind
    params: tuple[Any, ...]
    future: asyncio.Future[Any]
    result: Any = None
    refused: BaseException | None = None
    joined: bool = False  # commits in the same transaction as the write queued before it


_EXISTING_INTENTS = (
    "SELECT client_order_id FROM intents WHERE client_order_id IN (SELECT value FROM json_each(?))"
)
# A join, so that each key is one primary-key lookup: the row-value `IN` form searched the
# index by symbol only and scanned every fill of that symbol, once per batch.
_EXISTING_FILLS = (
    "SELECT fills.symbol, fills.trade_id FROM json_each(?) AS keys JOIN fills"
    " ON fills.symbol = json_extract(keys.value, '$[0]')"
    " AND fills.trade_id = json_extract(keys.value, '$[1]')"
)


class GroupCommitWriter:
    """Owns the write connection and the queue; only this task ever writes to the journal."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        last_event_seq: int,
        max_batch: int,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._conn = conn
        self._on_commit = on_commit
        self._loop = asyncio.get_running_loop()
        self._max_batch = max_batch
        self._queue: collections.deque[PendingWrite] = collections.deque()
        self._wakeup = asyncio.Event()
        self._next_event_seq = last_event_seq + 1
        self._closing = False
        self._failure: str | None = None
        # The open unit: writes queued since it began are held (None: no unit is open).
        self._unit_start: int | None = None
        self._unit_rows = 0
        self._submitted = 0  # writes ever queued; the queue's head is write number `_taken`
        self._taken = 0
        self._transactions = 0
        self._rows = 0
        self._largest_batch = 0
        self._task = asyncio.create_task(self._run(), name="journal-writer")
        self._task.add_done_callback(_log_unexpected_exit)

    @property
    def failure(self) -> str | None:
        """Why writing stopped, or None while the journal is healthy."""
        return self._failure

    def stats(self) -> JournalStats:
        return JournalStats(self._transactions, self._rows, self._largest_batch)

    def submit(self, kind: WriteKind, params: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queue one row; the returned future resolves after its transaction commits."""
        future: asyncio.Future[Any] = self._loop.create_future()
        if self._failure is not None:
            future.set_exception(JournalWriteError(f"journal is failed: {self._failure}"))
        elif self._closing:
            future.set_exception(JournalClosed("journal is closed; nothing more can be written"))
        else:
            joined = self._unit_start is not None and self._unit_rows > 0
            self._queue.append(PendingWrite(kind, params, future, joined=joined))
            self._submitted += 1
            if self._unit_start is not None:
                self._unit_rows += 1
            else:
                self._wakeup.set()
        return future

    def begin_unit(self) -> None:
        """Hold every write queued from now on until `end_unit`, then commit them together."""
        if self._unit_start is not None:
            raise RuntimeError("a journal unit is already open")
        self._unit_start = self._submitted
        self._unit_rows = 0

    def end_unit(self) -> None:
        """Close the open unit: its writes may commit now, all in one transaction."""
        if self._unit_start is None:
            if self._closing or self._failure is not None:
                return  # close() dropped the unit, or the failure failed its writes
            raise RuntimeError("no journal unit is open")
        self._unit_start = None
        self._wakeup.set()

    def _ready(self) -> int:
        """How many queued writes may commit now: all but those of an open unit."""
        if self._unit_start is None:
            return len(self._queue)
        return self._unit_start - self._taken

    async def close(self) -> None:
        """Refuse new writes, commit what is queued, and stop the task.

        A unit still open is dropped, all of it (its waiters fail with `JournalClosed`): its
        owner never ended it, so committing a part of it could be the half it exists to avoid.
        """
        self._closing = True
        if self._unit_start is not None:
            held = [self._queue.pop() for _ in range(self._submitted - self._unit_start)]
            self._submitted = self._unit_start
            self._unit_start = None
            for write in held:
                if not write.future.done():
                    write.future.set_exception(
                        JournalClosed("journal closed before this write's unit was complete")
                    )
        self._wakeup.set()
        # wait() rather than await: a writer that died has already failed its waiters and logged.
        await asyncio.wait([self._task])

    async def _run(self) -> None:
        while True:
            ready = self._ready()
            if not ready:
                if self._closing or self._failure is not None:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch_size = min(ready, self._max_batch)
            queue = self._queue
            while batch_size < ready and queue[batch_size].joined:
                batch_size += 1  # never split a unit: the batch ends where its last unit does
            batch = [queue.popleft() for _ in range(batch_size)]
            self._taken += batch_size
            try:
                await self._commit(batch)
            except BaseException as exc:
                self._fail(batch, exc)
                if not isinstance(exc, Exception):
                    raise  # cancellation and interpreter exits still propagate, after the waiters
                return

    async def _commit(self, batch: list[PendingWrite]) -> None:
        row_count = sum(write.kind is not WriteKind.BARRIER for write in batch)
        if row_count == 0:
            # Only flush barriers: every earlier batch has committed, nothing to write.
            self._resolve(batch)
            return
        # The whole transaction is one call in the connection's thread: one hop to the event
        # loop per batch instead of one per statement, which a busy loop makes each cost a turn.
        next_seq = await run_in_connection_thread(
            self._conn, functools.partial(_write_batch, batch, self._next_event_seq)
        )
        self._next_event_seq = next_seq
        self._transactions += 1
        self._rows += row_count
        self._largest_batch = max(self._largest_batch, row_count)
        self._resolve(batch)
        if self._on_commit is not None:
            self._on_commit()

    @staticmethod
    def _resolve(batch: list[PendingWrite]) -> None:
        """Hand each waiter its result (or its own refusal) once the batch is durable."""
        for write in batch:
            if write.future.done():
                continue  # the caller gave up waiting; the row is committed all the same
            if write.refused is not None:
                write.future.set_exception(write.refused)
            else:
                write.future.set_result(write.result)

    def _fail(self, batch: list[PendingWrite], exc: BaseException) -> None:
        """Enter the failed state: every waiter of this batch and of the queue gets the reason."""
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self._failure = reason
        log.error("journal write failed, the journal refuses further writes: %s", reason)
        waiting = [*batch, *self._queue]
        self._queue.clear()
        self._taken = self._submitted
        self._unit_start = None  # its writes are among those failed here
        for write in waiting:
            if not write.future.done():
                error = JournalWriteError(f"journal write not committed: {reason}")
                error.__cause__ = exc
                write.future.set_exception(error)


def _write_batch(batch: list[PendingWrite], next_seq: int, db: sqlite3.Connection) -> int:
    """Commit a batch as one transaction; runs in the connection's thread, touches no future.

    Sets each write's `result` or `refused` and returns the next free event seq; any error rolls
    the transaction back and propagates, so nothing of a failed batch is written.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        _refuse_duplicate_intents(db, batch)
        _mark_known_fills(db, batch)
        rows: dict[WriteKind, list[tuple[Any, ...]]] = {}
        for write in batch:
            if write.refused is not None or write.kind is WriteKind.BARRIER:
                continue
            params = write.params
            if write.kind is WriteKind.EVENT:
                write.result = next_seq
                params = (next_seq, *params)
                next_seq += 1
            elif write.kind is WriteKind.FILL and write.result is False:
                continue  # already journaled: reported to the caller as not inserted
            rows.setdefault(write.kind, []).append(params)
        for kind, kind_rows in rows.items():
            _insert(db, kind, kind_rows)
        db.execute("COMMIT")
    except BaseException:
        _rollback_quietly(db)
        raise
    return next_seq


# Rows per statement, largest first: `_insert` writes a kind's rows this many at a time.
_ROWS_PER_STATEMENT = (64, 16, 4)


def _multi_row(statement: str, count: int) -> str:
    """`statement` (one `VALUES (?, ...)` row) for `count` rows."""
    head, values, tail = statement.partition(" VALUES ")
    row, close, rest = tail.partition(")")
    return f"{head}{values}{', '.join([row + close] * count)}{rest}"


_MULTI_ROW = {
    (kind, count): _multi_row(kind.value, count)
    for kind in WriteKind
    if kind.value
    for count in _ROWS_PER_STATEMENT
}


def _insert(db: sqlite3.Connection, kind: WriteKind, rows: list[tuple[Any, ...]]) -> None:
    """Write one kind's rows, in order, several rows per statement.

    sqlite3 releases the GIL around each statement it steps and must take it back after: one
    statement per row (executemany) is a thousand GIL hand-offs with the event loop's thread
    per large batch, 64 rows per statement a few dozen, for slightly less CPU per row. Rows of
    one statement are applied in order, as executemany would apply them.
    """
    start = 0
    for count in _ROWS_PER_STATEMENT:
        statement = _MULTI_ROW[kind, count]
        while len(rows) - start >= count:
            db.execute(statement, [value for row in rows[start : start + count] for value in row])
            start += count
    if start < len(rows):
        db.executemany(kind.value, rows[start:])


def _refuse_duplicate_intents(db: sqlite3.Connection, batch: list[PendingWrite]) -> None:
    """Mark intents whose id is already journaled, or repeated in this batch, as refused."""
    intents = [w for w in batch if w.kind is WriteKind.INTENT]
    if not intents:
        return
    ids = [w.params[0] for w in intents]
    seen = {row[0] for row in db.execute(_EXISTING_INTENTS, (encode(ids),)).fetchall()}
    for write in intents:
        client_order_id = write.params[0]
        if client_order_id in seen:
            write.refused = DuplicateIntent(client_order_id)
        seen.add(client_order_id)


def _mark_known_fills(db: sqlite3.Connection, batch: list[PendingWrite]) -> None:
    """Set each fill's result: True if it is new, False if (symbol, trade_id) is known."""
    fills = [w for w in batch if w.kind is WriteKind.FILL]
    if not fills:
        return
    keys = [(w.params[0], w.params[1]) for w in fills]
    seen = {(row[0], row[1]) for row in db.execute(_EXISTING_FILLS, (encode(keys),)).fetchall()}
    for write in fills:
        key = (write.params[0], write.params[1])
        write.result = key not in seen
        seen.add(key)


def _rollback_quietly(db: sqlite3.Connection) -> None:
    try:
        db.execute("ROLLBACK")
    except Exception as exc:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
        log.debug("journal rollback after a failed batch: %s", exc)


def _log_unexpected_exit(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        log.warning("journal writer task was cancelled")
    elif (exc := task.exception()) is not None:
        log.error("journal writer task died", exc_info=exc)
