"""Benchmark: the desk's keypress-to-screen latency while the engine pushes 5,000 events/s.

Method. Three processes on this machine, as in use. (1) An engine stand-in serves the real control
server (`engine/service/control_server.py`, Unix socket) and the engine's own event hub: the
scripted desk session's snapshot (`tui/scenario.py`) grown to 200 open orders whose fills, marks
and balances move every snapshot, and an event stream at a steady offered rate (5,000 events/s:
order updates, fills and balance changes in rotation, each a full engine payload). (2) The desk,
the real `DeskApp` over the real socket client, in a pseudo-terminal of 160x50 with Textual's own
Linux driver, so every frame is drawn and written to the terminal. (3) This process presses `l`
(the event log's level: info -> warning -> alarm -> info) and times from writing the key to the
terminal until the terminal output holds the new label (`warning+`, then `alarm+`; the third
press is not timed): input parsing, the binding, the redraw and the write, while the desk folds
the flood. Presses are 150-350 ms apart (seeded). Reported: p50/p90/p99/max over the timed
presses, the events per second the desk folded (from its last seq), the share of a core the desk
used, and its event loop's lag (a 10 ms timer; the longest turn is what a key waits behind).
The desk is built as `spotdesk` builds it (`tui.launch.desk_app`). Aim: p99 <= 100 ms.

Run: `python -m bench.desk_latency [--short] [--rate N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import pathlib
import random
import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.desk_terminal import Terminal

SIZE = (160, 50)
OPEN_ORDERS = 200
RATE = 5000
TICK_S = 0.01  # the stand-in publishes in 10 ms batches
REPLAY_KEPT = 50_000  # events the stand-in keeps for subscribers that resume
LABELS = ("warning+", "alarm+", "info+")  # the log level after each press of `l`
START_S = 20.0
KEY_TIMEOUT_S = 10.0
LAG_TICK_S = 0.01


# -- the engine stand-in --------------------------------------------------------------------------


class FloodingEngine:
    """Serves a moving snapshot and `rate` events per second through the engine's EventHub."""

    def __init__(self, rate: int) -> None:
        from engine.service.eventstream import EventHub
        from tui import scenario

        self._rate = rate
        self._kept: deque[Any] = deque(maxlen=REPLAY_KEPT)
        self._hub = EventHub(self._read_since, last_seq=0)
        self._base = scenario.normal()
        self._orders = [_order(number) for number in range(OPEN_ORDERS)]
        self.published = 0

    async def _read_since(self, seq: int, limit: int) -> list[Any]:
        return [row for row in self._kept if row.seq > seq][:limit]

    async def snapshot(self) -> dict[str, Any]:
        seq = self._hub.last_seq
        snapshot = copy.deepcopy(self._base)
        moved = seq // 50  # fills, marks and balances move as events arrive
        for index, order in enumerate(self._orders):
            if (index + moved) % 10 == 0:
                order["cum_qty"] = str(Decimal(moved % 100) / 10000)
        snapshot["orders"] = {"open": [dict(o) for o in self._orders], "recent": []}
        for mark in snapshot["marks"]:
            mark["last"] = str(Decimal(mark["last"]) + Decimal(moved % 97) / 100)
        snapshot["balances"][-1]["free"] = str(Decimal("7551.2034") - Decimal(moved % 89))
        snapshot["seq"] = seq
        return snapshot

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        return self._hub.stream(since_seq)

    async def command(self, name: Any, args: dict[str, Any]) -> Any:
        from engine.service.api import CommandResult, Outcome

        return CommandResult(Outcome.OK, f"{name} (stand-in)")

    async def publish_forever(self) -> None:
        from engine.journal import EventRow

        loop = asyncio.get_running_loop()
        started = loop.time()
        seq = 0
        while True:
            due = int((loop.time() - started) * self._rate)
            now = datetime.now(UTC)
            while seq < due:
                seq += 1
                payload = _payload(seq, self._orders[seq % OPEN_ORDERS])
                row = EventRow(seq, now, str(payload["event"]), payload)
                self._kept.append(row)
                self._hub.publish({"seq": seq, "ts": now.isoformat(), **payload})
            self.published = seq
            await asyncio.sleep(TICK_S)


def _order(number: int) -> dict[str, Any]:
    price = Decimal(90000) - number
    return {
        "client_order_id": f"sd-bench01-{number}",
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "time_in_force": "GTC",
        "qty": "0.00100",
        "quote_qty": None,
        "price": str(price),
        "state": "NEW",
        "cum_qty": "0",
        "cum_quote": "0",
        "avg_price": None,
        "origin": "DESK",
        "order_id": number + 1,
        "cancel_requested": False,
        "reject_reason": None,
        "expiry_reason": None,
        "created_at": "2026-01-05T11:00:00+00:00",
        "updated_at": "2026-01-05T11:00:00+00:00",
    }


def _payload(seq: int, order: dict[str, Any]) -> dict[str, Any]:
    """An engine event's payload, in rotation: an order update, a fill, a balance change."""
    kind = seq % 3
    if kind == 0:
        return {"event": "OrderUpdated", "alarm": False, "order": order}
    if kind == 1:
        fill = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "qty": "0.00001000",
            "price": order["price"],
            "commission": "0.00000001",
            "commission_asset": "BTC",
            "trade_id": seq,
        }
        return {"event": "OrderPartiallyFilled", "alarm": False, "fill": fill, "order": order}
    balance = {"asset": "USDT", "free": str(Decimal(7000) + seq % 1000), "locked": "450"}
    return {"event": "BalanceChanged", "alarm": False, "balance": balance, "previous": None}


async def serve(socket_path: pathlib.Path, rate: int) -> None:
    from engine.service.control_server import ControlServer

    engine = FloodingEngine(rate)
    server = ControlServer(engine, socket_path)
    await server.start()
    publisher = asyncio.create_task(engine.publish_forever(), name="flood")
    try:
        while True:  # until the benchmark ends this process; it reads these lines
            await asyncio.sleep(0.5)
            print(
                f"stand-in t={time.monotonic():.3f} published={engine.published} "
                f"dropped={server.disconnected_slow}",
                flush=True,
            )
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        await server.stop()


# -- the desk, as the benchmark runs it ------------------------------------------------------------


def run_desk(socket_path: pathlib.Path, stats_path: pathlib.Path) -> None:
    """The desk over the socket; on exit it writes its samples: twice a second (time, last seq
    folded, events skipped to keep up, CPU seconds used), and how late a 10 ms timer fired (the
    loop's lag)."""
    from tui.app import DeskApp
    from tui.launch import desk_app

    samples: list[tuple[float, int, int, float]] = []
    lags: list[tuple[float, float]] = []

    class SampledDesk(DeskApp):
        def on_mount(self) -> None:  # Textual also runs DeskApp's own on_mount
            self.set_interval(0.5, self._sample)
            self.run_worker(self._lag(), name="lag")

        def _sample(self) -> None:
            now = time.monotonic()
            state, skipped = self.desk_state, self.feed.skipped_events
            samples.append((now, state.event_seq, skipped, time.process_time()))

        async def _lag(self) -> None:
            while True:
                before = time.monotonic()
                await asyncio.sleep(LAG_TICK_S)
                lags.append((before, time.monotonic() - before - LAG_TICK_S))

    desk_app(socket_path, SampledDesk).run()  # built as `spotdesk` builds it
    stats_path.write_text(json.dumps({"samples": samples, "lags": lags}))


def rates(samples: list[list[float]], start: float, end: float) -> tuple[float, float, float]:
    """Events the desk folded, and of those skipped, per second between two moments; and the
    share of one core the desk used meanwhile (steadier than latency on a shared machine)."""
    inside = [sample for sample in samples if start <= sample[0] <= end]
    if len(inside) < 2:
        return float("nan"), float("nan"), float("nan")
    (t0, seq0, skip0, cpu0), (t1, seq1, skip1, cpu1) = inside[0], inside[-1]
    return (seq1 - seq0) / (t1 - t0), (skip1 - skip0) / (t1 - t0), (cpu1 - cpu0) / (t1 - t0)


STAND_IN = re.compile(rb"stand-in t=([0-9.]+) published=([0-9]+) dropped=([0-9]+)")


def stand_in_rates(output: bytes, start: float, end: float) -> tuple[float, float]:
    """Events the stand-in published, and slow-subscriber drops, per second in a window."""
    reports = [(float(t), int(n), int(d)) for t, n, d in STAND_IN.findall(output)]
    inside = [report for report in reports if start <= report[0] <= end]
    if len(inside) < 2:
        return float("nan"), float("nan")
    (t0, n0, d0), (t1, n1, d1) = inside[0], inside[-1]
    return (n1 - n0) / (t1 - t0), (d1 - d0) / (t1 - t0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


# -- the measurement ------------------------------------------------------------------------------


def measure(presses: int, rate: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as directory:
        socket_path = pathlib.Path(directory) / "engine.sock"
        stats_path = pathlib.Path(directory) / "desk.json"
        me = [sys.executable, "-m", "bench.desk_latency"]
        engine = Terminal(
            [*me, "--serve", str(socket_path), "--rate", str(rate)], size=SIZE, env=_env()
        )
        desk = Terminal(
            [*me, "--desk", str(socket_path), "--stats", str(stats_path)], size=SIZE, env=_env()
        )
        try:
            desk.wait_for("level info+", START_S)
            desk.wait_for("Orders (", START_S)
            time.sleep(1.0)  # let the flood reach a steady state
            latencies: list[float] = []
            first = time.monotonic()
            for press in range(presses):
                label = LABELS[press % len(LABELS)]
                time.sleep(rng.uniform(0.15, 0.35))
                engine.read()
                desk.mark()
                sent = desk.press(b"l")
                shown = desk.wait_for(f"level {label}", KEY_TIMEOUT_S)
                if label != "info+":  # info+ may be redrawn by anything: not a clean signal
                    latencies.append((shown - sent) * 1000)
            last = time.monotonic()
            engine.read()
            published, dropped = stand_in_rates(engine.seen, first, last)
            desk.press(b"q")
            desk.wait_for("Quit the desk", KEY_TIMEOUT_S)
            desk.press(b"\r")  # focus starts on "Leave engine running"
            desk.wait_exit(KEY_TIMEOUT_S)
            stats = json.loads(stats_path.read_text())
        finally:
            desk.close()
            engine.close()
    folded, skipped, cpu_share = rates(stats["samples"], first, last)
    lags = [lag * 1000 for at, lag in stats["lags"] if first <= at <= last]
    return {
        "presses": len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p90_ms": percentile(latencies, 0.9),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "folded_per_s": folded,
        "published_per_s": published,
        "dropped_per_s": dropped,
        "skipped_per_s": skipped,
        "cpu_percent": cpu_share * 100,
        "lag_p50_ms": percentile(lags, 0.5),
        "lag_p99_ms": percentile(lags, 0.99),
        "lag_max_ms": max(lags),
    }


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="30 presses instead of 150")
    parser.add_argument("--rate", type=int, default=RATE, help="events per second offered")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", type=pathlib.Path, help=argparse.SUPPRESS)
    parser.add_argument("--desk", type=pathlib.Path, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.rate))
        return
    if args.desk is not None:
        run_desk(args.desk, args.stats)
        return
    presses = 30 if args.short else 150
    print(f"desk keypress-to-screen latency, {args.rate} events/s offered, {presses} presses")
    result = measure(presses, args.rate, args.seed)
    print(
        f"  timed presses {result['presses']}: p50 {result['p50_ms']:.1f} ms, "
        f"p90 {result['p90_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"max {result['max_ms']:.1f} ms (aim: p99 <= 100 ms)"
    )
    print(
        f"  events published by the stand-in while measuring: {result['published_per_s']:.0f}/s"
        f" (its server dropped the desk as a slow reader {result['dropped_per_s']:.1f} times/s)"
    )
    print(
        f"  events through the desk: {result['folded_per_s']:.0f}/s, of which skipped to keep "
        f"up: {result['skipped_per_s']:.0f}/s; the desk's CPU: {result['cpu_percent']:.0f}% "
        "of one core"
    )
    print(
        f"  the desk's event loop lag (a 10 ms timer): p50 {result['lag_p50_ms']:.1f} ms, "
        f"p99 {result['lag_p99_ms']:.1f} ms, max {result['lag_max_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[Any]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    from bench.figure import Aim, Figure

    presses = 30 if short else 150
    result = measure(presses, RATE, 7)
    return [
        Figure("keypress", "keypress to screen while 5,000 events/s", result["p99_ms"], "ms p99",
               f"desk in a 160x50 pty, {result['presses']} timed presses of `l`, engine stand-in",
               low=result["p50_ms"], high=result["max_ms"], spread="p50-max",
               aim=Aim("<=", 100.0)),
        Figure("folded", "events folded by the desk meanwhile", result["folded_per_s"],
               "events/s", "from the desk's last seq over the timed window"),
    ]  # fmt: skip
