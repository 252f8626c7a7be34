"""Opening a journal file: claim it, set SQLite up, check it, migrate it, bind it to its owner.

Everything that must hold before the first write is checked here and read back, because SQLite
silently ignores settings it cannot apply. Any refusal releases what was taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from engine.journal.checkpointer import BACKSTOP_PAGES
from engine.journal.codec import format_ts
from engine.journal.errors import JournalCorrupt, JournalError, JournalMismatch, JournalUnsafe
from engine.journal.files import OwnerLock, create_private_file, prepare_directory
from engine.journal.schema import migrate

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""The journal's time source: returns the current time, timezone-aware."""

_SQLITE_MINIMUM = (3, 37, 0)  # STRICT tables
_BUSY_TIMEOUT_MS = 5000  # only outside readers (an operator's sqlite3 shell) can make us wait


@dataclass(frozen=True)
class OpenedFiles:
    """A claimed, checked and migrated journal: its lock and its three connections."""

    path: pathlib.Path
    lock: OwnerLock
    write_conn: aiosqlite.Connection
    read_conn: aiosqlite.Connection
    checkpoint_conn: aiosqlite.Connection
    instance: int
    last_event_seq: int


async def open_files(
    path: pathlib.PurePath, *, mode: str, account: str, clock: Clock, max_pages: int | None
) -> OpenedFiles:
    """Lock and open the journal at `path` for `mode` and `account`, or refuse and say why."""
    if sqlite3.sqlite_version_info < _SQLITE_MINIMUM:
        raise JournalUnsafe(f"SQLite {sqlite3.sqlite_version} is too old; 3.37 or newer needed")
    journal_path, lock = await asyncio.to_thread(_claim_files, path)
    opened: list[aiosqlite.Connection] = []
    try:
        write_conn = await aiosqlite.connect(journal_path, isolation_level=None)
        opened.append(write_conn)
        await _configure_writer(write_conn, journal_path, max_pages)
        await _check_integrity(write_conn, journal_path)
        applied = await migrate(write_conn)
        if applied:
            log.info("journal %s migrated to schema %s", journal_path, applied[-1])
        instance = await _claim_meta(write_conn, journal_path, mode, account, clock)
        read_conn = await aiosqlite.connect(journal_path, isolation_level=None)
        opened.append(read_conn)
        await read_conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        await read_conn.execute("PRAGMA query_only = ON")
        last_event_seq = int(await _value(read_conn, "SELECT coalesce(max(seq), 0) FROM events"))
        checkpoint_conn = await aiosqlite.connect(journal_path, isolation_level=None)
        opened.append(checkpoint_conn)
        await _configure_checkpointer(checkpoint_conn, journal_path)
    except BaseException as exc:
        for conn in opened:
            with contextlib.suppress(Exception):
                await conn.close()
        lock.release()
        if isinstance(exc, sqlite3.Error):
            raise _open_error(journal_path, exc) from exc
        raise
    return OpenedFiles(
        journal_path, lock, write_conn, read_conn, checkpoint_conn, instance, last_event_seq
    )


def _claim_files(path: pathlib.PurePath) -> tuple[pathlib.Path, OwnerLock]:
    """Private directory, the owner lock, then the 0600 database file (blocking; in a thread)."""
    journal_path = pathlib.Path(path).absolute()
    prepare_directory(journal_path.parent)
    lock = OwnerLock.acquire(journal_path)
    try:
        create_private_file(journal_path)
    except BaseException:
        lock.release()
        raise
    return journal_path, lock


def _open_error(path: pathlib.Path, exc: sqlite3.Error) -> JournalError:
    """SQLite's own refusal at open, named for the operator: a damaged file or an unusable one."""
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return JournalCorrupt(f"journal {path} is damaged or not a journal: {exc}")
    return JournalUnsafe(f"journal {path} cannot be opened: {exc}")


async def _value(conn: aiosqlite.Connection, statement: str) -> Any:
    async with conn.execute(statement) as cursor:
        row = await cursor.fetchone()
    return None if row is None else row[0]


async def _configure_writer(
    conn: aiosqlite.Connection, path: pathlib.Path, max_pages: int | None
) -> None:
    """WAL, synchronous=FULL, foreign keys, and SQLite's own checkpoint only as a backstop
    (engine/journal/checkpointer.py): set, then read back, because SQLite may say no."""
    await conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    journal_mode = await _value(conn, "PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA foreign_keys = ON")
    backstop = await _value(conn, f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
    if max_pages is not None:
        await conn.execute(f"PRAGMA max_page_count = {int(max_pages)}")
    synchronous = await _value(conn, "PRAGMA synchronous")
    foreign_keys = await _value(conn, "PRAGMA foreign_keys")
    if str(journal_mode).lower() != "wal":
        raise JournalUnsafe(f"journal {path}: WAL mode refused (got {journal_mode!r})")
    if synchronous != 2 or foreign_keys != 1 or backstop != BACKSTOP_PAGES:
        raise JournalUnsafe(
            f"journal {path}: synchronous={synchronous} foreign_keys={foreign_keys} "
            f"wal_autocheckpoint={backstop}, expected FULL (2), on (1) and {BACKSTOP_PAGES}"
        )


async def _configure_checkpointer(conn: aiosqlite.Connection, path: pathlib.Path) -> None:
    """The checkpoint connection fsyncs what it copies (synchronous=FULL), read back."""
    await conn.execute("PRAGMA synchronous = FULL")
    synchronous = await _value(conn, "PRAGMA synchronous")
    if synchronous != 2:
        raise JournalUnsafe(
            f"journal {path}: checkpoint connection synchronous={synchronous}, expected FULL (2)"
        )


async def _check_integrity(conn: aiosqlite.Connection, path: pathlib.Path) -> None:
    async with conn.execute("PRAGMA quick_check") as cursor:
        problems = [str(row[0]) for row in await cursor.fetchall()]
    if problems != ["ok"]:
        raise JournalCorrupt(
            f"journal {path} failed its integrity check: {'; '.join(problems[:5])}"
        )


async def _claim_meta(
    conn: aiosqlite.Connection, path: pathlib.Path, mode: str, account: str, clock: Clock
) -> int:
    """Bind a new journal to its mode and account, or check an existing one; count this open."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("SELECT mode, account, instance FROM meta WHERE id = 1") as cursor:
            row = await cursor.fetchone()
        if row is None:
            instance = 1
            await conn.execute(
                "INSERT INTO meta (id, mode, account, created_at, instance) VALUES (1, ?, ?, ?, ?)",
                (mode, account, format_ts(clock()), instance),
            )
        else:
            stored_mode, stored_account, previous = row
            if (stored_mode, stored_account) != (mode, account):
                raise JournalMismatch(
                    f"journal {path} belongs to mode={stored_mode} account={stored_account}; "
                    f"refusing to open it for mode={mode} account={account}. Each mode and "
                    "account has its own journal: check SPOTDESK_MODE and the data directory."
                )
            instance = int(previous) + 1
            await conn.execute("UPDATE meta SET instance = ? WHERE id = 1", (instance,))
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return instance
