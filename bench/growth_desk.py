"""Benchmark: the desk's memory and frame time with a long event log and a long order history.

Method. The real DeskApp runs headless under Textual's Pilot (160x50) in this process, over a
client that speaks the engine's client interface: the scripted session's snapshot
(`tui/scenario.py`) with 1,000 finished orders in its history, then 10,000 events (each of the
orders accepted, filled or cancelled, and balance changes: one event-log line each) streamed
at once. Once the desk has folded them all, single updates (an order fill and a balance change)
are pushed one at a time; the frame time of each runs from the push until the desk has folded
it and is idle again (the panes updated and the screen composed), with the feed's coalescing
frame set to 10 ms so the timing is the desk's work, not its wait. Reported: the process's RSS
(/proc/self/statm) before the desk starts and after everything was shown; frame time
p50/p99/max. Aim for the frame: p99 <= 100 ms (the keypress aim of issue 6); no aim is set for
the memory, which is reported as the desk's own growth over the bare process.

Run: `python -m bench.growth_desk [--short] [--profile]` (--short: 2,000 events, 200 orders,
20 updates).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import time
from collections.abc import AsyncIterator
from typing import Any

from bench.figure import Aim, Figure, percentile
from bench.process_memory import print_profile, rss_mb
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.heap import settle_heap
from tui import scenario
from tui.app import DeskApp
from tui.feed import FeedTiming

SIZE = (160, 50)
TIMING = FeedTiming(frame_s=0.01, refresh_s=5.0, read_timeout_s=30.0)
WAIT_S = 120.0
Json = dict[str, Any]
NOW = scenario.frozen_clock().isoformat()


class PushedClient:
    """An engine client with a fixed snapshot whose events are pushed by the benchmark."""

    def __init__(self, snapshot: Json) -> None:
        self._snapshot = snapshot
        self._events: list[Json] = []
        self._arrived = asyncio.Condition()
        self._closed = False

    @property
    def last_seq(self) -> int:
        return int(self._events[-1]["seq"]) if self._events else int(self._snapshot["seq"])

    async def push(self, bodies: list[Json]) -> int:
        """Appends events with the next seqs; returns the last seq."""
        seq = self.last_seq
        for body in bodies:
            seq += 1
            self._events.append({"seq": seq, "ts": NOW, "alarm": False, **body})
        async with self._arrived:
            self._arrived.notify_all()
        return seq

    async def snapshot(self) -> Json:
        return self._snapshot

    async def events(self, since_seq: int) -> AsyncIterator[Json]:
        index = 0
        while not self._closed:
            while index < len(self._events):
                event = self._events[index]
                index += 1
                if int(event["seq"]) > since_seq:
                    yield event
            async with self._arrived:
                await self._arrived.wait_for(functools.partial(self._more, index))

    def _more(self, seen: int) -> bool:
        return seen < len(self._events) or self._closed

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        return CommandResult(Outcome.REFUSED, f"{name.value}: not in this benchmark")

    async def close(self) -> None:
        self._closed = True
        async with self._arrived:
            self._arrived.notify_all()


def _order(number: int, state: str) -> Json:
    """A finished (or accepted) BTC order of the scripted session's kind, id `bench-<n>`."""
    order = dict(scenario.FINISHED[2])
    order.update(client_order_id=f"sd-bench-{number}", order_id=10_000 + number, state=state)
    if state != "FILLED":
        order.update(cum_qty="0", cum_quote="0", avg_price=None)
    return order


def _history(orders: int, events: int) -> tuple[Json, list[Json]]:
    """The snapshot with `orders` finished orders, and `events` events about them."""
    snapshot = scenario.normal()
    snapshot["orders"]["recent"] = [_order(n, "FILLED") for n in range(orders)]
    bodies: list[Json] = []
    number = 0
    while len(bodies) < events:
        number += 1
        filled = _order(orders + number, "FILLED")
        bodies += [
            {"event": "OrderAccepted", "order": _order(orders + number, "NEW")},
            _fill(filled),
            {"event": "BalanceChanged",
             "balance": {"asset": "BTC", "free": "0", "locked": f"0.{number:08d}"}},
        ]  # fmt: skip
    return snapshot, bodies[:events]


def _fill(order: Json) -> Json:
    fill = {
        "symbol": order["symbol"],
        "side": order["side"],
        "qty": order["cum_qty"],
        "price": order["avg_price"],
        "commission": "1.86501",
        "commission_asset": "USDT",
    }
    return {"event": "OrderFilled", "fill": fill, "order": order}


async def _until(app: DeskApp, seq: int | None) -> None:
    """Until the desk has folded event `seq` (None: until it shows its first snapshot)."""
    deadline = time.monotonic() + WAIT_S
    state = app.desk_state
    while (state.snapshot is None) if seq is None else (state.event_seq < seq):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the desk did not fold event {seq} in time")
        await asyncio.sleep(0.001)
        state = app.desk_state


async def measure(
    orders: int, events: int, updates: int, profile: cProfile.Profile | None = None
) -> dict[str, Any]:
    snapshot, bodies = _history(orders, events)
    client = PushedClient(snapshot)
    bare_mb = rss_mb()
    # As the desk's own process does (`tui.launch.desk_app`); this benchmark has its process
    # to itself too (`python -m bench` runs each in its own).
    app = DeskApp(
        lambda: client, clock=scenario.frozen_clock, timing=TIMING, after_first_frame=settle_heap
    )
    frames: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await _until(app, None)
        started = time.perf_counter()
        await _until(app, await client.push(bodies))
        await pilot.pause()
        fold_s = time.perf_counter() - started
        shown_mb = rss_mb()
        if profile is not None:
            profile.enable()
        for number in range(updates):
            update = _order(orders + events + number, "FILLED")
            pushed = time.perf_counter()
            await _until(app, await client.push([_fill(update)]))
            await pilot.pause()
            frames.append((time.perf_counter() - pushed) * 1000)
        if profile is not None:
            profile.disable()
        end_mb = rss_mb()
        await client.close()
        app.exit()
    return {
        "orders": orders,
        "events": events,
        "bare_mb": bare_mb,
        "shown_mb": shown_mb,
        "end_mb": end_mb,
        "fold_s": fold_s,
        "frames": frames,
    }


def _sizes(short: bool) -> tuple[int, int, int]:
    return (200, 2_000, 20) if short else (1_000, 10_000, 200)


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    r = asyncio.run(measure(*_sizes(short)))
    what = f"Pilot 160x50, {r['events']:,} events in the log, {r['orders']:,} orders in history"
    frames = r["frames"]
    return [
        Figure("rss", "desk process RSS", r["end_mb"], "MB", f"{what}; spread: bare process-end",
               low=r["bare_mb"], high=r["end_mb"], spread="bare-end"),
        Figure("frame", "desk frame after one update", percentile(frames, 0.99), "ms p99",
               f"{what}; push -> folded and idle, {len(frames)} updates, 10 ms feed frame",
               low=percentile(frames, 0.5), high=max(frames), spread="p50-max",
               aim=Aim("<=", 100.0)),
        Figure("fold", "desk folds the whole history", r["fold_s"], "s",
               f"{what}; all events pushed at once -> shown"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="2,000 events, 200 orders")
    parser.add_argument("--profile", action="store_true", help="cProfile over the updates")
    args = parser.parse_args()
    profile = cProfile.Profile() if args.profile else None
    r = asyncio.run(measure(*_sizes(args.short), profile))
    if profile is not None:
        print_profile(profile)
    frames = r["frames"]
    print(
        f"desk: {r['events']:,} events, {r['orders']:,} orders in history; RSS bare "
        f"{r['bare_mb']:.1f} MB, shown {r['shown_mb']:.1f} MB, end {r['end_mb']:.1f} MB; "
        f"history folded in {r['fold_s']:.2f} s"
    )
    print(
        f"  frame after one update ({len(frames)}): p50 {percentile(frames, 0.5):.1f} ms, "
        f"p99 {percentile(frames, 0.99):.1f} ms, max {max(frames):.1f} ms (aim p99 <= 100 ms)"
    )


if __name__ == "__main__":
    main()
