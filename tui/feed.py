"""The engine feed: snapshot plus event stream in, one `DeskState` per frame out.

Runs as the app's worker. Events are buffered and folded at most once per frame, together with a
fresh snapshot, so an event flood costs a few redraws a second. When the engine stops answering
the state turns stale at once; the feed retries with a bounded backoff and, once the engine
answers again, resumes the event stream after the last seq it folded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.service.api import EngineClient
from tui.state import DeskState

log = logging.getLogger(__name__)

HISTORY_EVENTS = 200  # events replayed into the log on first connect (and after a skip)
# Behind the engine by this many events (a second or more of a flood), the desk stops replaying
# and resumes near the present: the panes come from the snapshot, and nobody reads a log that
# fast (the events stay in the engine's journal).
SKIP_AHEAD_EVENTS = 5000
YIELD_EVERY = 50  # events read in a row before the reader lets the loop run something else


@dataclass(frozen=True)
class FeedTiming:
    """Frame length, how often the snapshot is refreshed when quiet (ages, marks), how long a
    read may take before the feed calls the engine unresponsive, and the retry backoff."""

    frame_s: float = 0.25
    refresh_s: float = 1.0
    read_timeout_s: float = 3.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0


class FeedLost(Exception):
    """The engine stopped answering or its event stream ended."""


class FellBehind(Exception):
    """The event stream is too far behind the engine's snapshot: resume near the present."""

    def __init__(self, snapshot_seq: int) -> None:
        super().__init__(f"behind the engine at seq {snapshot_seq}")
        self.snapshot_seq = snapshot_seq


class EngineFeed:
    """Follows one engine client and publishes each new `DeskState`."""

    def __init__(
        self,
        client: EngineClient,
        publish: Callable[[DeskState], None],
        *,
        clock: Callable[[], datetime],
        timing: FeedTiming | None = None,
    ) -> None:
        self._client = client
        self._publish = publish
        self._clock = clock
        self._timing = timing or FeedTiming()
        self.state = DeskState()
        self._answered = False  # the engine answered since the last loss
        self.skipped_events = 0  # passed over to keep up with a flood (see SKIP_AHEAD_EVENTS)

    def _set(self, state: DeskState) -> None:
        self.state = state
        self._publish(state)

    async def run(self) -> None:
        """Follow the engine forever: reconnect with backoff whenever it is lost."""
        failures = 0
        while True:
            self._answered = False
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except FellBehind as behind:
                resume = behind.snapshot_seq - HISTORY_EVENTS
                self.skipped_events += max(0, resume - self.state.event_seq)
                self._set(self.state.skipped_to(resume, self._clock()))
                continue
            except Exception as error:  # the I/O boundary: every failure means "stale"
                failures = 1 if self._answered else failures + 1  # backoff for a dead engine
                # FeedLost already says why in words; naming it too would make the same loss
                # read differently depending on which path noticed it first.
                reason = str(error) if isinstance(error, FeedLost) else _why(error)
                log.warning("engine feed lost: %s", reason)
                self._set(self.state.with_stale(f"engine not answering: {reason}"))
            timing = self._timing
            delay = min(timing.retry_initial_s * 2 ** min(failures - 1, 10), timing.retry_max_s)
            await asyncio.sleep(max(delay, 0.0))

    async def _read_snapshot(self) -> Mapping[str, Any]:
        try:
            return await asyncio.wait_for(self._client.snapshot(), self._timing.read_timeout_s)
        except TimeoutError:
            raise FeedLost(f"no snapshot within {self._timing.read_timeout_s:g} s") from None

    async def _follow(self) -> None:
        snapshot = await self._read_snapshot()
        state = self.state
        since = state.event_seq
        if since == 0:
            since = max(0, int(snapshot.get("seq", 0)) - HISTORY_EVENTS)
            state = state.resumed_from(since)
        self._set(state.with_snapshot(snapshot, self._clock()))
        self._answered = True
        buffer: list[dict[str, Any]] = []
        arrived = asyncio.Event()

        async def read_events() -> None:
            async for event in self._client.events(since):
                buffer.append(event)
                arrived.set()
                if len(buffer) % YIELD_EVERY == 0:
                    # A backlog is read without ever waiting: let keys in between.
                    await asyncio.sleep(0)

        reader = asyncio.create_task(read_events(), name="desk-events")
        try:
            await self._frames(reader, buffer, arrived)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _frames(
        self, reader: asyncio.Task[None], buffer: list[dict[str, Any]], arrived: asyncio.Event
    ) -> None:
        timing = self._timing
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timing.refresh_s)
            if buffer:
                await asyncio.sleep(timing.frame_s)  # gather the rest of a burst into one frame
            arrived.clear()
            events, buffer[:] = list(buffer), []
            state = self.state.with_events(events, self._clock())
            if reader.done():
                self.state = state
                error = None if reader.cancelled() else reader.exception()
                raise FeedLost(_why(error) if error else "the event stream ended")
            snapshot = await self._read_snapshot()
            self._set(state.with_snapshot(snapshot, self._clock()))
            if int(snapshot.get("seq", 0)) - self.state.event_seq > SKIP_AHEAD_EVENTS:
                raise FellBehind(int(snapshot["seq"]))


def _why(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
