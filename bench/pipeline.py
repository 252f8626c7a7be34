"""Benchmark: user-stream events through the engine's whole pipeline, and its commit latency.

Method. Frames are recorded first: an in-process embedded exchange core (no server) fills market
orders that walk its synthetic book, and every `executionReport` it emits for the account (NEW,
then one TRADE per level) is kept as the JSON text the wire would carry. An engine is then
started for real (python-binance against an embedded exchange on loopback, journal in a temporary
directory with WAL and synchronous=FULL), the orders' intents are entered in its book (as the
desk would have done before sending), and the frames are fed straight into the engine's user
stream handler (`Engine._on_user_event(json.loads(frame))`: decode, parse, order book, ledger,
journal rows, events), yielding to the event loop every 64 frames as a socket reader would. One
subscriber reads the engine's event stream; the clock stops when it has received the last event
(so every row is durably committed and delivered).

1. Throughput: every frame as fast as possible; frames/s and events/s. Anchor, in the same run:
   a bare loop that decodes the same frames and puts them on an asyncio.Queue drained by a
   consumer task (what a pipeline that did nothing would cost); reported as a ratio.
2. Commit latency at 5,000 frames/s: frames offered on schedule, ~1 ms ticks; after each tick a
   journal flush is requested, and each frame's latency runs from its feed to the durable commit
   of everything it caused. Aim: p99 <= 10 ms. Each frame makes about two engine events, so
   the run is repeated at 2,500 frames/s, i.e. about 5,000 engine events/s.

Run: `python -m bench.pipeline [--short]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import platform
import sqlite3
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

with warnings.catch_warnings():  # python-binance imports websockets' deprecated legacy API
    warnings.simplefilter("ignore", DeprecationWarning)
    import binance  # noqa: F401

from engine.config import Mode, Settings
from engine.core.intents import OrderIntent
from engine.core.types import OrderType, Side
from engine.service.engine import Engine, make_engine
from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange
from engine.sim.runner import SimServer

SYMBOL = "BTCUSDT"
FEED_CHUNK = 64
RATES = (5_000, 2_500)


def record_frames(orders: int, prefix: str) -> list[str]:
    """executionReport frames of `orders` market orders (alternating buy and sell of 1 BTC,
    each walking several book levels), as JSON text."""
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=11)
    account = exchange.create_account(
        {"USDT": Decimal(10) ** 12, "BTC": Decimal(10) ** 6}, name="bench"
    )
    frames: list[str] = []

    def keep(event: dict[str, Any]) -> None:
        if event.get("e") == "executionReport":
            frames.append(json.dumps(event))

    exchange.add_user_listener(account, keep)
    for index in range(orders):
        clock.advance(5)
        exchange.step_market()  # the book refills, so each order walks the same few levels
        exchange.new_order(
            account,
            {
                "symbol": SYMBOL,
                "side": "BUY" if index % 2 == 0 else "SELL",
                "type": "MARKET",
                "quantity": "1",
                "newClientOrderId": f"{prefix}-{index + 1}",
            },
        )
    return frames


def _intents(engine: Engine, orders: int, prefix: str) -> None:
    """Enter the orders in the book as the desk would have before sending them."""
    parts = engine.parts
    now = datetime.now(UTC)
    for index in range(orders):
        intent = OrderIntent(
            client_order_id=f"{prefix}-{index + 1}",
            symbol=SYMBOL,
            side=Side.BUY if index % 2 == 0 else Side.SELL,
            type=OrderType.MARKET,
            qty=Decimal(1),
            created_at=now,
        )
        parts.pipeline.record(parts.book.submit(intent))


async def _drain_until(engine: Engine, since: int, last: asyncio.Future[int]) -> int:
    """Read the event stream until the seq `last` resolves to has been received."""
    received = 0
    async for event in engine.events(since):
        received += 1
        if last.done() and event["seq"] >= last.result():
            return received
    return received


async def throughput(engine: Engine, frames: list[str]) -> tuple[float, float, int]:
    """(frames/s, events/s, events) for feeding every frame as fast as possible."""
    parts = engine.parts
    await parts.journal.flush()
    since = parts.pipeline.hub.last_seq
    last: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(_drain_until(engine, since, last))
    await asyncio.sleep(0)
    started = time.perf_counter()
    for offset in range(0, len(frames), FEED_CHUNK):
        for frame in frames[offset : offset + FEED_CHUNK]:
            engine._on_user_event(json.loads(frame))
        await asyncio.sleep(0)
    await parts.journal.flush()
    last.set_result(parts.pipeline.hub.last_seq)
    events = await reader
    elapsed = time.perf_counter() - started
    return len(frames) / elapsed, events / elapsed, events


async def anchor(frames: list[str]) -> float:
    """frames/s of a bare decode-and-queue loop over the same frames, same chunking."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    done = asyncio.Event()
    total = len(frames)

    async def consume() -> None:
        for _ in range(total):
            await queue.get()
        done.set()

    consumer = asyncio.create_task(consume())
    started = time.perf_counter()
    for offset in range(0, total, FEED_CHUNK):
        for frame in frames[offset : offset + FEED_CHUNK]:
            queue.put_nowait(json.loads(frame))
        await asyncio.sleep(0)
    await done.wait()
    await consumer
    return total / (time.perf_counter() - started)


async def latency(engine: Engine, frames: list[str], rate: int) -> tuple[list[float], float]:
    """Per-frame feed-to-durable-commit latencies (s) at `rate` frames/s, and the rate achieved."""
    journal = engine.parts.journal
    latencies: list[float] = []
    flushes: list[asyncio.Task[None]] = []

    def on_commit(fed_at: list[float]) -> Any:
        def record(task: asyncio.Task[None]) -> None:
            now = time.perf_counter()
            latencies.extend(now - at for at in fed_at)

        return record

    started = time.perf_counter()
    sent = 0
    while sent < len(frames):
        due = min(len(frames), int((time.perf_counter() - started) * rate) + 1)
        fed_at: list[float] = []
        while sent < due:
            fed_at.append(time.perf_counter())
            engine._on_user_event(json.loads(frames[sent]))
            sent += 1
        if fed_at:
            flush = asyncio.create_task(journal.flush())
            flush.add_done_callback(on_commit(fed_at))
            flushes.append(flush)
        await asyncio.sleep(0.001)
    await asyncio.gather(*flushes)
    return latencies, len(frames) / (time.perf_counter() - started)


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


async def _engine(sim: SimServer, data_dir: pathlib.Path) -> Engine:
    account = sim.exchange.create_account({"USDT": Decimal(1000)}, name="bench-engine")
    key, secret = f"BenchKey{account:056d}", f"BenchSecret{account:053d}"
    sim.exchange.register_key(account, key, hmac_secret=secret)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        mode=Mode.SIM,
        data_dir=data_dir,
        sim_url=sim.url,
        api_key=SecretStr(key),
        api_secret=SecretStr(secret),
    )
    engine = make_engine(settings, symbols=(SYMBOL,), market_data=False, reconcile_interval_s=None)
    await engine.start()
    return engine


async def _main(short: bool) -> None:
    orders = 1_000 if short else 6_000
    latency_orders = 1_000 if short else 4_000
    print(
        "engine pipeline benchmark: executionReport frames -> decode, book, ledger, journal, "
        "event stream"
    )
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs"
    )
    frames = record_frames(orders, "sd-bench")
    paced = {rate: record_frames(latency_orders, f"sd-r{rate}") for rate in RATES}
    print(
        f"recorded {len(frames)} frames for throughput and {latency_orders * 5} per latency "
        f"run from the exchange core ({len(frames) / orders:.1f} per order: NEW plus one "
        "TRADE per book level)"
    )
    with tempfile.TemporaryDirectory(prefix="spotdesk-bench-") as tmp:
        async with SimServer(port=0, seed=3, frozen_market=True) as sim:
            engine = await _engine(sim, pathlib.Path(tmp))
            try:
                _intents(engine, orders, "sd-bench")
                for rate in RATES:
                    _intents(engine, latency_orders, f"sd-r{rate}")
                base = await anchor(frames)
                stats_before = engine.parts.journal.stats
                frames_s, events_s, events = await throughput(engine, frames)
                stats = engine.parts.journal.stats
                tx = stats.transactions - stats_before.transactions
                rows = stats.rows - stats_before.rows
                print(
                    f"throughput: {len(frames)} frames -> {events} events, {rows} journal rows "
                    f"in {tx} transactions (largest {stats.largest_batch})"
                )
                print(
                    f"  pipeline {frames_s:,.0f} frames/s ({events_s:,.0f} events/s) "
                    f"[aim >= 10,000 frames/s]; anchor decode+queue {base:,.0f} frames/s; "
                    f"ratio {frames_s / base:.3f}"
                )
                for rate in RATES:
                    values, achieved = await latency(engine, paced[rate], rate)
                    ms = [value * 1000 for value in values]
                    print(
                        f"latency at {rate} frames/s offered (achieved {achieved:,.0f}/s, "
                        f"{len(paced[rate])} frames): feed -> durable commit p50 "
                        f"{_quantile(ms, 0.5):.2f} ms, p99 {_quantile(ms, 0.99):.2f} ms, "
                        f"max {max(ms):.2f} ms [aim p99 <= 10 ms]"
                    )
            finally:
                await engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="fewer frames")
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.short))


if __name__ == "__main__":
    main()
