"""The ordered event stream: events are published once durably journaled, in seq order, and a
subscriber first replays what it missed from the journal, then follows live ones.

A subscriber registers its live queue before replaying, so an event committed during the replay
is either read back from the journal or found in the queue (never neither); duplicates are
dropped by seq. A subscriber that falls `max_backlog` events behind is not allowed to grow
memory: its queue is dropped and it catches up from the journal again, so a slow reader never
slows the engine and never loses an event.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from engine.journal import EventRow
from engine.journal.codec import format_ts

EventReader = Callable[[int, int], Awaitable[list[EventRow]]]

_REPLAY_PAGE = 500


def row_json(row: EventRow) -> dict[str, Any]:
    """A journaled event as clients receive it: seq, ts, then the payload (event, alarm, ...)."""
    return {"seq": row.seq, "ts": format_ts(row.ts), **row.payload}


class _Overflow(Exception):
    """The subscriber fell too far behind: catch up from the journal."""


class _Subscriber:
    def __init__(self, max_backlog: int) -> None:
        self.items: collections.deque[dict[str, Any]] = collections.deque()
        self.max_backlog = max_backlog
        self.overflowed = False
        self.closed = False
        self.wakeup = asyncio.Event()

    def put(self, item: dict[str, Any]) -> None:
        if self.overflowed:
            return
        if len(self.items) >= self.max_backlog:
            self.overflowed = True
            self.items.clear()
        else:
            self.items.append(item)
        self.wakeup.set()

    async def get(self) -> dict[str, Any] | None:
        """The next live event; None once the hub closed."""
        while not self.items:
            if self.overflowed:
                raise _Overflow
            if self.closed:
                return None
            self.wakeup.clear()
            await self.wakeup.wait()
        return self.items.popleft()


class EventHub:
    """Fans committed events out to subscribers; `publish` must be called in seq order."""

    def __init__(self, read_since: EventReader, *, last_seq: int, max_backlog: int = 10_000):
        self._read_since = read_since
        self.last_seq = last_seq
        self._max_backlog = max_backlog
        self._subscribers: set[_Subscriber] = set()
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, item: dict[str, Any]) -> None:
        """Hand a committed event (with its `seq`) to every subscriber."""
        seq = int(item["seq"])
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        for subscriber in self._subscribers:
            subscriber.put(item)

    def close(self) -> None:
        """End every subscription once it has drained what was published."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.closed = True
            subscriber.wakeup.set()

    async def stream(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        """Events with seq > `since_seq`, in order, without gaps or duplicates, then live ones."""
        last = since_seq
        while True:
            subscriber = _Subscriber(self._max_backlog)
            subscriber.closed = self._closed
            self._subscribers.add(subscriber)
            try:
                while True:
                    rows = await self._read_since(last, _REPLAY_PAGE)
                    for row in rows:
                        if row.seq > last:
                            yield row_json(row)
                            last = row.seq
                    if len(rows) < _REPLAY_PAGE:
                        break
                while True:
                    item = await subscriber.get()
                    if item is None:
                        return
                    if item["seq"] > last:
                        yield item
                        last = item["seq"]
            except _Overflow:
                continue  # drop the live queue and catch up from the journal
            finally:
                self._subscribers.discard(subscriber)
