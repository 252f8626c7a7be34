"""The event stream over a real journal: replay then live, no gaps, no duplicates, slow
subscribers caught up from the journal instead of growing memory."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.journal import Journal
from engine.journal.codec import format_ts
from engine.service.eventstream import EventHub


class Emitter:
    """Journals events and publishes each once committed, as the pipeline does."""

    def __init__(self, journal: Journal, hub: EventHub) -> None:
        self.journal = journal
        self.hub = hub
        self.count = 0

    def emit(self, count: int) -> None:
        for _ in range(count):
            self.count += 1
            payload = {"event": "Tick", "n": self.count}
            journal_ts = self.journal._clock()
            future = self.journal.append_event("Tick", payload, ts=journal_ts)

            def publish(
                done: asyncio.Future[int], p: dict[str, Any] = payload, ts: Any = journal_ts
            ) -> None:
                self.hub.publish({"seq": done.result(), "ts": format_ts(ts), **p})

            future.add_done_callback(publish)


@pytest.fixture
async def journal(tmp_path: pathlib.Path) -> AsyncIterator[Journal]:
    opened = await Journal.open(tmp_path / "j" / "journal.sqlite", mode="sim", account="t")
    yield opened
    await opened.close()


async def _take(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    async for item in stream:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


async def test_replay_then_live_without_gaps_or_duplicates(journal: Journal) -> None:
    hub = EventHub(journal.events_since, last_seq=0)
    emitter = Emitter(journal, hub)
    emitter.emit(1200)  # more than one replay page
    await journal.flush()
    stream = hub.stream(0)
    reader = asyncio.create_task(_take(stream, 1500))
    for _ in range(30):  # more events land while the subscriber is replaying
        emitter.emit(10)
        await asyncio.sleep(0)
    taken = await asyncio.wait_for(reader, 10)
    assert [item["seq"] for item in taken] == list(range(1, 1501))
    assert [item["n"] for item in taken] == list(range(1, 1501))
    assert all(item["event"] == "Tick" for item in taken)


async def test_a_resumed_subscription_starts_after_its_seq(journal: Journal) -> None:
    hub = EventHub(journal.events_since, last_seq=0)
    emitter = Emitter(journal, hub)
    emitter.emit(20)
    await journal.flush()
    taken = await asyncio.wait_for(_take(hub.stream(15), 5), 5)
    assert [item["seq"] for item in taken] == [16, 17, 18, 19, 20]


async def test_live_and_replayed_events_look_the_same(journal: Journal) -> None:
    hub = EventHub(journal.events_since, last_seq=0)
    emitter = Emitter(journal, hub)
    live_stream = hub.stream(0)
    live_reader = asyncio.create_task(_take(live_stream, 3))
    await asyncio.sleep(0)
    emitter.emit(3)
    live = await asyncio.wait_for(live_reader, 5)
    replayed = await asyncio.wait_for(_take(hub.stream(0), 3), 5)
    assert live == replayed


async def test_a_slow_subscriber_catches_up_from_the_journal(journal: Journal) -> None:
    hub = EventHub(journal.events_since, last_seq=0, max_backlog=10)
    emitter = Emitter(journal, hub)
    stream = hub.stream(0)
    first = await asyncio.wait_for(_first_after(stream, emitter), 5)
    assert first["seq"] == 1
    emitter.emit(100)  # the subscriber reads nothing meanwhile: its queue overflows
    await journal.flush()
    rest = await asyncio.wait_for(_take(stream, 100), 5)
    assert [item["seq"] for item in rest] == list(range(2, 102))
    assert hub.subscriber_count == 1


async def _first_after(stream: AsyncIterator[dict[str, Any]], emitter: Emitter) -> dict[str, Any]:
    emitter.emit(1)
    return await anext(stream)


async def test_closing_the_hub_ends_subscriptions(journal: Journal) -> None:
    hub = EventHub(journal.events_since, last_seq=0)
    emitter = Emitter(journal, hub)
    emitter.emit(2)
    await journal.flush()
    stream = hub.stream(0)
    reader = asyncio.create_task(_take(stream, 10))
    await asyncio.sleep(0)
    hub.close()
    taken = await asyncio.wait_for(reader, 5)
    assert [item["seq"] for item in taken] == [1, 2]
