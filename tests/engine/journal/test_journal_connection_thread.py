"""Tests of the one place that uses aiosqlite's private API: a function run in its thread."""

from __future__ import annotations

import pathlib
import sqlite3
import threading

import aiosqlite
import pytest

from engine.journal.connection_thread import run_in_connection_thread


def test_aiosqlite_still_has_the_private_api_the_journal_writer_relies_on() -> None:
    # If this fails after an aiosqlite upgrade, adapt engine/journal/connection_thread.py.
    assert callable(getattr(aiosqlite.Connection, "_execute", None)), (
        "aiosqlite.Connection._execute is gone: the journal writer cannot run a batch in one hop"
    )
    assert isinstance(getattr(aiosqlite.Connection, "_conn", None), property), (
        "aiosqlite.Connection._conn is gone: the journal writer cannot reach the raw connection"
    )


async def test_the_function_runs_in_the_connection_thread_with_the_raw_connection(
    tmp_path: pathlib.Path,
) -> None:
    async with aiosqlite.connect(tmp_path / "t.sqlite3", isolation_level=None) as conn:
        await conn.execute("CREATE TABLE t (n INTEGER)")
        seen: list[object] = []

        def work(db: sqlite3.Connection) -> int:
            seen.append(type(db))
            seen.append(threading.current_thread() is threading.main_thread())
            db.execute("INSERT INTO t (n) VALUES (7)")
            return int(db.execute("SELECT sum(n) FROM t").fetchone()[0])

        assert await run_in_connection_thread(conn, work) == 7
        assert seen == [sqlite3.Connection, False]
        # Ordered with the connection's own statements: the row is visible to the next one.
        async with conn.execute("SELECT n FROM t") as cursor:
            assert await cursor.fetchall() == [(7,)]


async def test_an_exception_in_the_function_is_raised_to_the_caller(
    tmp_path: pathlib.Path,
) -> None:
    async with aiosqlite.connect(tmp_path / "t.sqlite3", isolation_level=None) as conn:

        def broken(db: sqlite3.Connection) -> None:
            db.execute("SELECT * FROM no_such_table")

        with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
            await run_in_connection_thread(conn, broken)


async def test_a_closed_connection_is_refused(tmp_path: pathlib.Path) -> None:
    conn = await aiosqlite.connect(tmp_path / "t.sqlite3")
    await conn.close()
    with pytest.raises(ValueError, match="no active connection"):
        await run_in_connection_thread(conn, lambda db: None)
