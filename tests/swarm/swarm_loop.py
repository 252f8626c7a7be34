"""Virtual time for a swarm run: an event loop whose clock jumps to the next timer when idle.

Nothing in a run waits on real time: `asyncio.sleep`, `wait_for` and every timer fire as soon as
the loop has nothing else to do, with the loop's clock moved to their deadline. The run is
single-threaded on purpose (executor jobs and the journal's SQLite calls run inline), so the
interleaving of tasks, and with it every result, depends only on the seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import aiosqlite


class RunStuck(RuntimeError):
    """Nothing can happen any more (no ready callback, no timer), or virtual time ran away."""


class _IdleSelector(selectors.DefaultSelector):
    """Polls without blocking; where the loop would sleep, moves the virtual clock instead."""

    loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or (timeout is not None and timeout <= 0):
            return ready
        assert self.loop is not None
        if timeout is None:
            raise RunStuck("nothing is ready and no timer is set: the run cannot go on")
        self.loop.advance(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """`time()` is virtual seconds from 0; it moves only when the loop is idle (to the next
    timer) or when `advance()` jumps it. `limit_s` bounds it, so a run whose tasks keep
    rescheduling timers forever ends with RunStuck instead of spinning."""

    def __init__(self, *, limit_s: float) -> None:
        selector = _IdleSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0
        self._limit_s = limit_s

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward; timers now due fire at the loop's next pass."""
        if seconds < 0:
            raise ValueError("virtual time only moves forward")
        self._now += seconds
        if self._now > self._limit_s:
            raise RunStuck(f"virtual time passed {self._limit_s:g} s: something never settles")

    def lift_limit(self) -> None:
        """No bound any more: cleaning up after a run that hit it must not hit it again."""
        self._limit_s = float("inf")

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        """Run the job inline: a thread would finish at a moment no seed decides."""
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except BaseException as error:
            future.set_exception(error)
        return future


class VirtualClock:
    """The run's one time source, read from the loop: the engine's clock (`monotonic`, `now`)
    and the exchange core's (`now_ms`)."""

    def __init__(self, loop: VirtualTimeLoop, epoch: datetime) -> None:
        self._loop = loop
        self._epoch = epoch
        self._epoch_ms = int(epoch.timestamp() * 1000)

    def monotonic(self) -> float:
        return self._loop.time()

    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self._loop.time())

    def now_ms(self) -> int:
        return self._epoch_ms + int(self._loop.time() * 1000)


class _InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs each call in the caller's thread, at once."""

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _connect(self) -> _InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Disk:
    """The journal's disk as the swarm sees it: every inline connection open on it, and a way
    to fill it (SQLite then fails any write that needs a new page: "database or disk is full").
    A connection opened later, after a restart, finds space again."""

    def __init__(self) -> None:
        self.connections: list[_InlineConnection] = []
        self.full = False

    def fill(self) -> None:
        self.full = True
        for connection in self.connections:
            raw = connection._connection
            if raw is not None:
                pages = raw.execute("PRAGMA page_count").fetchone()[0]
                raw.execute(f"PRAGMA max_page_count = {int(pages)}")


@contextlib.contextmanager
def inline_sqlite() -> Iterator[Disk]:
    """While inside, `aiosqlite.connect` gives inline connections (real SQLite, no thread)."""
    disk = Disk()

    def connect(database: Any, *, iter_chunk_size: int = 64, **kwargs: Any) -> aiosqlite.Connection:
        def connector() -> sqlite3.Connection:
            raw: sqlite3.Connection = sqlite3.connect(str(database), **kwargs)
            return raw

        connection = _InlineConnection(connector, iter_chunk_size)
        disk.connections.append(connection)
        return connection

    original = aiosqlite.connect
    aiosqlite.connect = connect
    try:
        yield disk
    finally:
        aiosqlite.connect = original
