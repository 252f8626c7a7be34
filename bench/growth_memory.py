"""Benchmark: the engine process's resident memory as user-stream events and finished orders
pile up.

Method. The embedded exchange runs in its own process (`spotdesk sim`); this process runs a real
Engine on it (journal on this machine's disk, WAL, synchronous=FULL; user stream connected,
started and reconciled; no market data). One template of executionReport and
outboundAccountPosition frames is recorded once from an in-process exchange core (market orders
of 3.5 BTC, buys and sells alternating, each walking several book levels: NEW, the TRADEs, the
account update; 9 frames per order); the frames fed are copies of it with fresh client order ids,
order ids, trade ids and times, so nothing in this process grows with the run but the engine.
Before each batch,
the batch's intents enter the engine's book (as the desk would have done before sending), then
the frames go to the engine's user-stream handler (decode, order book, ledger, journal, event
stream) as python-binance hands them over, yielding to the loop every 64 frames as a socket
reader would, with a journal flush per batch. RSS
(/proc/self/statm) is sampled 20 times along the way. Reported: RSS at the end, the most seen,
and the growth from the end of warm-up (the first 10% of the events) to the end, and over the
second half. Aims: under 150 MB, growth after warm-up at most 10 MB ("flat").

Run: `python -m bench.growth_memory [--short] [--profile]` (1,000,000 events and at least
100,000 orders; --short: 20,000 events).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import pathlib
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from bench.figure import Aim, Figure
from bench.process_memory import profiled, rss_mb
from bench.sim_throughput import running_sim
from engine.config import Mode, Settings
from engine.core.intents import OrderIntent
from engine.core.types import OrderType, Side
from engine.service.engine import Engine, make_engine
from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange

SYMBOL = "BTCUSDT"
TEMPLATE_ORDERS = 500  # orders in the recorded template (one batch)
QUANTITY = "3.5"
SAMPLES = 20
FEED_CHUNK = 64  # frames between yields to the loop, as bench/pipeline.py feeds
WARMUP = 0.1  # the share of the events after which memory should stay flat
TIME_KEYS = ("E", "T", "O", "W", "u")


def template() -> list[dict[str, Any]]:
    """One batch of user-stream frames (see the module docstring), ids `t-<n>` from 1."""
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=11)
    account = exchange.create_account({"USDT": Decimal(10) ** 12, "BTC": Decimal(10) ** 6})
    frames: list[dict[str, Any]] = []
    exchange.add_user_listener(account, frames.append)
    for index in range(TEMPLATE_ORDERS):
        clock.advance(5)
        exchange.step_market()  # the book refills, so each order walks the same few levels
        exchange.new_order(
            account,
            {
                "symbol": SYMBOL,
                "side": "BUY" if index % 2 == 0 else "SELL",
                "type": "MARKET",
                "quantity": QUANTITY,
                "newClientOrderId": f"t-{index + 1}",
            },
        )
    return frames


class Batches:
    """Copies of the template with fresh ids and times, batch after batch."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self._frames = frames
        self.size = len(frames)
        reports = [f for f in frames if f["e"] == "executionReport"]
        self._orders = max(int(f["i"]) for f in reports)
        self._trades = max(int(f["t"]) for f in reports)
        self._span_ms = 1 + max(int(f["E"]) for f in frames) - min(int(f["E"]) for f in frames)

    def batch(self, number: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        shift = number * self._span_ms
        for frame in self._frames:
            copied = dict(frame)  # shallow: the nested balances are never changed
            for key in TIME_KEYS:
                if key in copied:
                    copied[key] += shift
            if copied["e"] == "executionReport":
                copied["c"] = f"sd-g{number}-{copied['c'].removeprefix('t-')}"
                copied["i"] += number * self._orders
                if copied["t"] >= 0:
                    copied["t"] += number * self._trades
            out.append(copied)
        return out


def _intents(engine: Engine, number: int) -> None:
    """The batch's orders enter the book, as the desk's submits would have put them."""
    parts = engine.parts
    now = datetime.now(UTC)
    for index in range(TEMPLATE_ORDERS):
        intent = OrderIntent(
            client_order_id=f"sd-g{number}-{index + 1}",
            symbol=SYMBOL,
            side=Side.BUY if index % 2 == 0 else Side.SELL,
            type=OrderType.MARKET,
            qty=Decimal(QUANTITY),
            created_at=now,
        )
        parts.pipeline.record(parts.book.submit(intent))


async def measure(events_wanted: int, orders_wanted: int) -> dict[str, Any]:
    frames = template()
    per_batch = len(frames)
    batches = max(math.ceil(events_wanted / per_batch), math.ceil(orders_wanted / TEMPLATE_ORDERS))
    source = Batches(frames)
    every = max(1, batches * per_batch // SAMPLES)  # frames between samples
    with tempfile.TemporaryDirectory(prefix="spotdesk-bench-") as tmp:
        return await _measure_in(pathlib.Path(tmp), source, batches, every)


async def _measure_in(
    data_dir: pathlib.Path, source: Batches, batches: int, every: int
) -> dict[str, Any]:
    per_batch = source.size
    samples: list[tuple[int, float]] = []
    fed = 0
    async with running_sim(data_dir) as sim:
        settings = Settings(
            _env_file=None,
            mode=Mode.SIM,
            sim_url=sim.url,
            data_dir=data_dir,
            api_key=SecretStr(sim.api_key),
            api_secret=SecretStr(sim.api_secret),
        )
        engine = make_engine(
            settings, symbols=(SYMBOL,), market_data=False, reconcile_interval_s=None
        )
        await engine.start()
        try:
            samples.append((0, rss_mb()))
            started = time.perf_counter()
            for number in range(batches):
                _intents(engine, number)
                for frame in source.batch(number):
                    engine._on_user_event(frame)
                    fed += 1
                    if fed % FEED_CHUNK == 0:
                        await asyncio.sleep(0)
                    if fed % every == 0:
                        samples.append((fed, rss_mb()))
                await engine.parts.journal.flush()
            samples.append((fed, rss_mb()))
            elapsed = time.perf_counter() - started
            held = len(engine.parts.book)
        finally:
            await engine.stop()
    events = batches * per_batch
    warm = next(rss for fed, rss in samples if fed >= WARMUP * events)
    half = next(rss for fed, rss in samples if fed >= events / 2)
    return {
        "events": events,
        "orders": batches * TEMPLATE_ORDERS,
        "seconds": elapsed,
        "samples": samples,
        "end": samples[-1][1],
        "start": samples[0][1],
        "warm": warm,
        "half": half,
        "most": max(rss for _, rss in samples),
        "book_orders": held,
    }


def _sizes(short: bool) -> tuple[int, int]:
    return (20_000, 2_000) if short else (1_000_000, 100_000)


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    result = asyncio.run(measure(*_sizes(short)))
    method = (
        f"{result['events']:,} user-stream events, {result['orders']:,} filled orders through "
        f"a started engine; RSS sampled {len(result['samples'])} times"
    )
    return [
        Figure(
            "rss", "engine RSS after all events", result["end"], "MB", method,
            low=result["start"], high=result["most"], spread="started-most",
            aim=Aim("<=", 150.0),
        ),
        Figure(
            "growth", "engine RSS growth after warm-up", result["end"] - result["warm"], "MB",
            f"RSS at the end minus at 10% of the events; {result['book_orders']} orders held",
            aim=Aim("<=", 10.0),
        ),
        Figure(
            "late", "engine RSS growth over the second half", result["end"] - result["half"],
            "MB", "RSS at the end minus at 50% of the events (a leak grows here as before)",
        ),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="20,000 events")
    parser.add_argument("--profile", action="store_true", help="under cProfile")
    args = parser.parse_args()
    sizes = _sizes(args.short)

    def run() -> dict[str, Any]:
        return asyncio.run(measure(*sizes))

    result = profiled(run) if args.profile else run()
    print(
        f"engine RSS: {result['events']:,} events, {result['orders']:,} orders in "
        f"{result['seconds']:.1f} s ({result['events'] / result['seconds']:,.0f} events/s)"
    )
    for fed, rss in result["samples"]:
        print(f"  after {fed:>9,} events: {rss:6.1f} MB")
    print(
        f"  end {result['end']:.1f} MB (aim <= 150), growth after warm-up "
        f"{result['end'] - result['warm']:+.1f} MB (aim <= 10); "
        f"orders held in the book: {result['book_orders']}"
    )


if __name__ == "__main__":
    main()
