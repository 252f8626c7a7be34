"""The shared reconnect loop, driven by a fake connection (no network)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from engine.venue.health import StreamGap, StreamHealth, StreamStatus
from engine.venue.supervisor import Reconnect, StreamSupervisor, SupervisorConfig

FAST = SupervisorConfig(
    stall_after_s=30.0,
    connect_timeout_s=1.0,
    exit_timeout_s=1.0,
    backoff_base_s=0.001,
    backoff_cap_s=0.004,
    down_after_failures=2,
)


@dataclass
class FakeConn:
    number: int
    frames: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    closed: str | None = None


class FakeSupervisor(StreamSupervisor[FakeConn]):
    stream_name = "fake"

    def __init__(
        self, clock: Any, config: SupervisorConfig, failures_first: int = 0, alive: bool = False
    ) -> None:
        self.statuses: asyncio.Queue[StreamStatus] = asyncio.Queue()
        self.gaps: asyncio.Queue[StreamGap] = asyncio.Queue()
        self.events: list[Any] = []
        self.delivered: asyncio.Queue[Any] = asyncio.Queue()
        self.probes: asyncio.Queue[FakeConn] = asyncio.Queue()
        self.conns: asyncio.Queue[FakeConn] = asyncio.Queue()
        self.opened: list[FakeConn] = []
        self._failures_first = failures_first
        self._alive = alive
        super().__init__(
            clock=clock,
            rng=random.Random(3),
            config=config,
            on_status=self.statuses.put_nowait,
            on_gap=self.gaps.put_nowait,
        )

    async def _open(self) -> FakeConn:
        if self._failures_first > 0:
            self._failures_first -= 1
            raise ConnectionRefusedError("refused")
        conn = FakeConn(len(self.opened))
        self.opened.append(conn)
        self.conns.put_nowait(conn)
        return conn

    async def _recv(self, handle: FakeConn) -> Any:
        return await handle.frames.get()

    def _handle_frame(self, frame: Any) -> None:
        if frame == "error":
            raise Reconnect("connection error")
        if frame == "boom":
            raise RuntimeError("consumer bug")
        self._mark_event()
        self.events.append(frame)
        self.delivered.put_nowait(frame)

    async def _close(self, handle: FakeConn, *, graceful: bool) -> None:
        handle.closed = "graceful" if graceful else "abrupt"

    async def _still_alive(self, handle: FakeConn) -> bool:
        self.probes.put_nowait(handle)
        return self._alive


async def next_item(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), 5)


async def test_an_error_frame_replaces_the_connection_and_reports_a_gap(clock: Any) -> None:
    sup = FakeSupervisor(clock, FAST)
    sup.start()
    try:
        first = await next_item(sup.conns)
        assert (await next_item(sup.statuses)).health is StreamHealth.CONNECTED
        clock.advance(1)
        first.frames.put_nowait({"e": "executionReport"})
        first.frames.put_nowait("boom")  # a failing consumer is logged, the stream goes on
        first.frames.put_nowait({"e": "outboundAccountPosition"})
        first.frames.put_nowait("error")
        degraded = await next_item(sup.statuses)
        assert (degraded.health, degraded.reason) == (StreamHealth.DEGRADED, "connection error")
        assert degraded.last_event_at == clock.now()
        second = await next_item(sup.conns)
        gap = await next_item(sup.gaps)
        assert (gap.stream, gap.since, gap.reason) == ("fake", clock.now(), "connection error")
        assert (await next_item(sup.statuses)).health is StreamHealth.CONNECTED
        assert first.closed == "abrupt" and second.closed is None
        assert sup.events == [{"e": "executionReport"}, {"e": "outboundAccountPosition"}]
        assert sup.reconnects == 1
    finally:
        await sup.stop()
    assert second.closed == "graceful"
    assert sup.status.health is StreamHealth.DOWN


async def test_silence_past_the_bound_is_a_stall(clock: Any) -> None:
    sup = FakeSupervisor(clock, SupervisorConfig(**{**FAST.__dict__, "stall_after_s": 0.05}))
    sup.start()
    try:
        await next_item(sup.conns)
        await next_item(sup.conns)
        gap = await next_item(sup.gaps)
        assert gap.reason == "stall: no frame for 0.05 s"
    finally:
        await sup.stop()


async def test_a_live_probe_keeps_a_quiet_connection(clock: Any) -> None:
    sup = FakeSupervisor(
        clock, SupervisorConfig(**{**FAST.__dict__, "stall_after_s": 0.01}), alive=True
    )
    sup.start()
    try:
        conn = await next_item(sup.conns)
        for _ in range(3):  # several silent periods, each answered by the probe
            assert await next_item(sup.probes) is conn
        conn.frames.put_nowait({"e": "balanceUpdate"})
        assert await next_item(sup.delivered) == {"e": "balanceUpdate"}
        assert sup.opened == [conn] and sup.gaps.empty()
    finally:
        await sup.stop()


async def test_the_connection_is_replaced_before_its_age_limit(clock: Any) -> None:
    sup = FakeSupervisor(
        clock, SupervisorConfig(**{**FAST.__dict__, "max_connection_age_s": 3600.0})
    )
    sup.start()
    try:
        first = await next_item(sup.conns)
        clock.advance(3600)
        first.frames.put_nowait({"e": "executionReport"})  # wakes the reader: age is checked
        await next_item(sup.conns)
        gap = await next_item(sup.gaps)
        assert gap.reason.startswith("connection age limit")
    finally:
        await sup.stop()


async def test_failed_opens_degrade_then_go_down_and_recover(clock: Any) -> None:
    sup = FakeSupervisor(clock, FAST, failures_first=0)
    sup.start()
    try:
        first = await next_item(sup.conns)
        assert (await next_item(sup.statuses)).health is StreamHealth.CONNECTED
        sup._failures_first = 3
        first.frames.put_nowait("error")
        assert (await next_item(sup.statuses)).health is StreamHealth.DEGRADED
        down = await next_item(sup.statuses)
        assert down.health is StreamHealth.DOWN
        assert down.reason == "connect failed: NotSent: ConnectionRefusedError: refused"
        await next_item(sup.conns)
        assert (await next_item(sup.statuses)).health is StreamHealth.CONNECTED
        assert (await next_item(sup.gaps)).reason == "connection error"
    finally:
        await sup.stop()
