"""Run a plain function in an aiosqlite connection's own thread, with its raw sqlite3 connection.

aiosqlite turns every statement into a round trip to its worker thread and back to the event
loop; the journal's writer instead sends a whole group commit as one function, so a batch costs
one hop whatever its number of statements. This needs two private aiosqlite names,
`Connection._execute` and `Connection._conn`; they are used here and nowhere else, so an
aiosqlite upgrade that changes them breaks this one module (and its test), not the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar, cast

import aiosqlite

T = TypeVar("T")


async def run_in_connection_thread(
    conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]
) -> T:
    """Call `fn(raw_connection)` in `conn`'s worker thread, queued after its pending statements.

    The function runs to completion even if the awaiting task is cancelled, exactly as an
    aiosqlite statement would; its exception, if any, is raised here.
    """
    raw: sqlite3.Connection = conn._conn  # raises ValueError once the connection is closed
    # `_execute` is untyped in aiosqlite: the cast is what it returns, fn's own result.
    execute = cast(Callable[..., Any], conn._execute)
    return cast(T, await execute(fn, raw))
