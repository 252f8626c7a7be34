"""The feed: a lost engine turns the state stale, and the feed catches up after the last seq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from desk_testkit import World, frozen_clock
from engine_testkit import submit

from engine.service.api import CommandName, CommandResult, EngineClient
from tui.feed import EngineFeed, FeedTiming
from tui.state import DeskState

TIMING = FeedTiming(
    frame_s=0.0, refresh_s=0.05, read_timeout_s=1.0, retry_initial_s=0.02, retry_max_s=0.05
)


class Unplugged(ConnectionError):
    pass


class Cable:
    """A real engine's client behind a cable the test can pull out and plug back in."""

    def __init__(self, client: EngineClient) -> None:
        self._client = client
        self.plugged = True
        self.since: list[int] = []

    async def snapshot(self) -> dict[str, Any]:
        if not self.plugged:
            raise Unplugged("unplugged")
        return await self._client.snapshot()

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        self.since.append(since_seq)
        async for event in self._client.events(since_seq):
            if not self.plugged:
                raise Unplugged("unplugged")
            yield event

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        return await self._client.command(name, args)

    async def close(self) -> None:
        pass


async def test_lost_engine_goes_stale_and_the_feed_resumes_after_its_last_seq(
    desk_world: World,
) -> None:
    engine = desk_world.engine
    cable = Cable(engine.client)
    states: list[DeskState] = []
    changed = asyncio.Event()

    def publish(state: DeskState) -> None:
        states.append(state)
        changed.set()

    async def until(condition: Any) -> DeskState:
        while not (states and condition(states[-1])):
            changed.clear()
            await asyncio.wait_for(changed.wait(), 10)
        return states[-1]

    feed = EngineFeed(cable, publish, clock=frozen_clock, timing=TIMING)
    runner = asyncio.create_task(feed.run())
    try:
        first = await until(lambda s: not s.stale and s.event_seq > 0)
        seen = first.event_seq
        cable.plugged = False
        placed = await submit(
            engine, symbol="BTCUSDT", side="BUY", type="limit", quantity="0.01", price="90000"
        )
        stale = await until(lambda s: s.stale)
        assert stale.stale_reason == "engine not answering: Unplugged: unplugged"
        assert stale.snapshot is not None  # the last data stays on screen, marked stale
        cable.plugged = True
        cid = placed.data["client_order_id"]
        back = await until(
            lambda s: (
                not s.stale
                and any(line.kind == "OrderAccepted" and cid in line.text for line in s.log)
            )
        )
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    seqs = [line.seq for line in back.log]
    assert seqs == list(range(seqs[0], seqs[-1] + 1))  # no gap, no duplicate
    assert cable.since[0] == 0 and cable.since[-1] >= seen
    assert [o["client_order_id"] for o in back.open_orders] == [cid]


class Racing:
    """An engine whose seq runs away between snapshots while its stream sends nothing."""

    def __init__(self) -> None:
        self.seq = 1000
        self.since: list[int] = []
        self.resubscribed = asyncio.Event()

    async def snapshot(self) -> dict[str, Any]:
        self.seq += 10_000
        return {"seq": self.seq, "trading_state": "ACTIVE"}

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        self.since.append(since_seq)
        if len(self.since) >= 2:
            self.resubscribed.set()
        await asyncio.Event().wait()
        yield {}

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        raise AssertionError("no command in this test")

    async def close(self) -> None:
        pass


async def test_far_behind_a_flood_the_feed_skips_ahead_and_says_so() -> None:
    client = Racing()
    states: list[DeskState] = []
    feed = EngineFeed(client, states.append, clock=frozen_clock, timing=TIMING)
    runner = asyncio.create_task(feed.run())
    try:
        await asyncio.wait_for(client.resubscribed.wait(), 10)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    # First connect: 200 events of history before the first snapshot (11000); the next
    # snapshot (21000) is 10,000 ahead: the feed resumes 200 before it.
    assert client.since[:2] == [10_800, 20_800]
    assert feed.skipped_events == 10_000
    skipped = next(s for s in states if s.log)
    assert skipped.event_seq == 20_800 and not skipped.stale
    [line] = skipped.log
    assert (line.kind, line.level, line.text) == (
        "DeskSkipped",
        "warning",
        "The desk skipped 10000 events to keep up; the panes show the current state",
    )
