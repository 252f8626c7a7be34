"""The reconnect loop shared by the user-data and market stream supervisors.

One task: open a connection (bounded), read frames until something says the connection can no
longer be trusted (an error frame, a closed read loop, silence past a bound, the connection's age),
close it (bounded), wait a jittered backoff, open a new one. Health changes and gaps go to
callbacks; callback failures are logged and never end the loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from engine.venue.errors import classify
from engine.venue.health import StreamGap, StreamHealth, StreamStatus
from engine.venue.timing import Backoff, Clock

log = logging.getLogger(__name__)

H = TypeVar("H")


@dataclass(frozen=True)
class SupervisorConfig:
    """Bounds of a supervisor, in seconds.

    stall_after_s: no frame for this long makes the connection suspect.
    max_connection_age_s: replace the connection before Binance's 24 h limit cuts it.
    connect_timeout_s / exit_timeout_s: bounds on opening and closing a connection.
    backoff_base_s / backoff_cap_s: reconnect delays (jittered); the first retry after a
      connection that lived at least `stable_after_s` waits about `backoff_base_s`.
    down_after_failures: this many failed opens in a row turn DEGRADED into DOWN.
    probe_timeout_s: after `stall_after_s` of silence a stream that can be asked whether it is
      alive (the user stream: a WebSocket API ping) must answer within this bound.
    """

    stall_after_s: float = 60.0
    max_connection_age_s: float = 23.5 * 3600
    connect_timeout_s: float = 10.0
    exit_timeout_s: float = 2.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    stable_after_s: float = 30.0
    down_after_failures: int = 3
    probe_timeout_s: float = 5.0


class Reconnect(Exception):
    """Raised inside a supervisor's frame handling: replace the connection, for this reason.
    `planned`: the exchange announced it (serverShutdown), not a failure worth an alarm."""

    def __init__(self, reason: str, *, planned: bool = False) -> None:
        super().__init__(reason)
        self.planned = planned


class StreamSupervisor(ABC, Generic[H]):
    """Keeps one stream connection alive; subclasses say how to open, read, judge and close."""

    stream_name = "stream"

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        config: SupervisorConfig,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_gap: Callable[[StreamGap], None] | None = None,
    ) -> None:
        self._clock = clock
        self._config = config
        self._backoff = Backoff(rng, base=config.backoff_base_s, cap=config.backoff_cap_s)
        self._on_status = on_status
        self._on_gap = on_gap
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._handle: H | None = None
        self._status = StreamStatus(
            self.stream_name, StreamHealth.DOWN, "not started", clock.now(), None
        )
        self.last_event_at: datetime | None = None
        self.reconnects = 0

    @property
    def status(self) -> StreamStatus:
        return self._status

    def start(self) -> None:
        """Start the supervising task (in the running loop)."""
        if self._task is not None:
            raise RuntimeError(f"{self.stream_name} supervisor already started")
        self._task = asyncio.create_task(self._run(), name=f"{self.stream_name}-supervisor")
        self._task.add_done_callback(self._log_end)

    async def stop(self) -> None:
        """Stop the task and close the connection, each within the exit bound."""
        self._stopping = True
        task, self._task = self._task, None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.exit_timeout_s
        # On Python 3.11 a cancel that lands as an inner `wait_for` completes is swallowed (the
        # library's recv uses wait_for), so cancel until the task is done; `_stopping` also ends
        # the loop at its next turn.
        while task is not None and not task.done() and loop.time() < deadline:
            task.cancel()
            await asyncio.wait({task}, timeout=0.05)
        handle, self._handle = self._handle, None
        if handle is not None:
            await self._bounded_close(handle, graceful=True)
        self._set(StreamHealth.DOWN, "stopped")

    # -- what subclasses provide ---------------------------------------------------------------

    @abstractmethod
    async def _open(self) -> H:
        """Open and subscribe; raise on failure (the caller bounds the time)."""

    @abstractmethod
    async def _recv(self, handle: H) -> Any:
        """The next frame; may block forever (the caller bounds it)."""

    @abstractmethod
    def _handle_frame(self, frame: Any) -> None:
        """Deliver one frame; raise Reconnect when it says the connection is finished."""

    @abstractmethod
    async def _close(self, handle: H, *, graceful: bool) -> None:
        """Close the connection; `graceful` when stopping (unsubscribe first)."""

    async def _still_alive(self, handle: H) -> bool:
        """Called after `stall_after_s` of silence; True keeps the connection."""
        return False

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        cfg = self._config
        failures = 0
        ever_connected = False
        gap_reason: str | None = None
        gap_since: datetime | None = None
        while not self._stopping:
            try:
                handle = await asyncio.wait_for(self._open(), cfg.connect_timeout_s)
            except Exception as exc:
                failures += 1
                down = failures >= cfg.down_after_failures or not ever_connected
                self._set(
                    StreamHealth.DOWN if down else StreamHealth.DEGRADED,
                    f"connect failed: {classify(exc)}",
                )
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._handle = handle
            if self._stopping:
                return  # stop() closes the handle
            failures = 0
            ever_connected = True
            opened_at = self._clock.now()
            opened_mono = self._clock.monotonic()
            if gap_reason is not None and gap_since is not None:
                self.reconnects += 1
                self._emit_gap(StreamGap(self.stream_name, gap_since, opened_at, gap_reason))
            self._set(StreamHealth.CONNECTED, "connected")
            gap_reason, planned = await self._pump(handle, opened_mono)
            if self._stopping:
                return
            last = self.last_event_at
            gap_since = last if last is not None and last > opened_at else opened_at
            self._set(StreamHealth.DEGRADED, gap_reason, planned=planned)
            self._handle = None
            await self._bounded_close(handle, graceful=False)
            if self._clock.monotonic() - opened_mono >= cfg.stable_after_s:
                self._backoff.reset()
            await asyncio.sleep(self._backoff.next_delay())

    async def _pump(self, handle: H, opened_mono: float) -> tuple[str, bool]:
        """Read until the connection must be replaced; returns why, and whether it was planned
        (the connection's age, a shutdown the exchange announced) rather than a failure."""
        cfg = self._config
        while not self._stopping:
            age_left = cfg.max_connection_age_s - (self._clock.monotonic() - opened_mono)
            if age_left <= 0:
                return "connection age limit: replaced before the exchange's 24 h cut", True
            try:
                frame = await asyncio.wait_for(self._recv(handle), min(cfg.stall_after_s, age_left))
            except TimeoutError:
                if cfg.max_connection_age_s - (self._clock.monotonic() - opened_mono) <= 0:
                    continue
                if await self._still_alive(handle):
                    continue
                return f"stall: no frame for {cfg.stall_after_s:g} s", False
            except Exception as exc:
                return f"read failed: {type(exc).__name__}", False
            try:
                self._handle_frame(frame)
            except Reconnect as why:
                return str(why), why.planned
            except Exception:
                log.exception("%s: delivering a frame failed", self.stream_name)
        return "stopping", True

    async def _bounded_close(self, handle: H, *, graceful: bool) -> None:
        try:
            await asyncio.wait_for(
                self._close(handle, graceful=graceful), self._config.exit_timeout_s
            )
        except Exception as exc:
            log.warning("%s: closing the connection failed: %s", self.stream_name, classify(exc))

    def _mark_event(self) -> None:
        self.last_event_at = self._clock.now()

    def _set(self, health: StreamHealth, reason: str, *, planned: bool = False) -> None:
        if health is self._status.health:
            return
        self._status = StreamStatus(
            self.stream_name, health, reason, self._clock.now(), self.last_event_at, planned
        )
        if self._on_status is not None:
            try:
                self._on_status(self._status)
            except Exception:
                log.exception("%s: status callback failed", self.stream_name)

    def _emit_gap(self, gap: StreamGap) -> None:
        if self._on_gap is not None:
            try:
                self._on_gap(gap)
            except Exception:
                log.exception("%s: gap callback failed", self.stream_name)

    def _log_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s supervisor ended", self.stream_name, exc_info=task.exception())
