"""Benchmark of the embedded exchange: sustained REST order rate and user-stream event rate.

Method. The exchange runs as users run it, in its own process: `spotdesk sim --port 0` with a
state file in a temporary directory (so snapshots are written as in real use) and a frozen
market; its order-count limits are lifted through the admin API. This process holds the
clients, unmodified python-binance 1.0.37 AsyncClients on loopback.

1. Orders: `--clients` clients (default 4), one symbol each, each in a loop places a LIMIT buy
   that rests (far below the market) and cancels it. Reported: orders placed per second over
   the run (cancels are as many again). Aim: 300 orders/s.
2. Events, burst: one python-binance user socket (`BinanceSocketManager.user_socket()`); 199
   resting orders on each of the four symbols are placed (not timed), then the four
   `DELETE /api/v3/openOrders` are sent at once. The time runs from sending them until the
   socket has yielded every resulting event (one executionReport per order, one
   outboundAccountPosition per request). Reported: events per second. Aim: 5,000 events/s.
3. Events, sustained: the same socket while the order loop of (1) runs; every order and cancel
   yields an executionReport and an outboundAccountPosition. Reported: events per second
   received by the socket.

Each measurement is repeated (`--runs`, 5; 2 with `--short`) on a fresh exchange process; the
median and the range (min-max) are printed. Run: `python -m bench.sim_throughput [--short]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pathlib
import platform
import re
import signal
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.figure import Aim, Figure, from_samples

with warnings.catch_warnings():  # python-binance imports websockets' deprecated legacy API
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, BinanceSocketManager

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT")
# Buy prices that rest far below the demo market, and quantities worth more than 5 USDT.
RESTING = {
    "BTCUSDT": ("50000.00", "0.00020"),
    "ETHUSDT": ("2000.00", "0.0050"),
    "BNBUSDT": ("400.00", "0.030"),
    "SOLUSDT": ("100.00", "0.100"),
}
ROOT = pathlib.Path(__file__).resolve().parents[1]
BURST_ORDERS = 199  # per symbol: Binance's MAX_NUM_ORDERS is 200


@dataclass
class RunningSim:
    process: asyncio.subprocess.Process
    url: str
    api_key: str
    api_secret: str


@contextlib.asynccontextmanager
async def running_sim(
    state_dir: pathlib.Path, *, frozen_market: bool = True
) -> AsyncIterator[RunningSim]:
    """`spotdesk sim` in a subprocess with its limits lifted, stopped with SIGTERM at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine.cli", "sim", "--port", "0",
        *(["--frozen-market"] if frozen_market else []),
        "--state", str(state_dir / "sim.sqlite"),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.":
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            raise RuntimeError("spotdesk sim did not start")
        lines.append(line.decode().rstrip("\n"))
    text = "\n".join(lines)

    def field(label: str) -> str:
        match = re.search(rf"^  {label}\s+(\S+)", text, re.MULTILINE)
        assert match is not None, text
        return match.group(1)

    sim = RunningSim(
        process, field("REST").removesuffix("/api/v3/"), field("API key"), field("API secret")
    )
    try:
        async with aiohttp.ClientSession() as session:
            limits = {
                "orders_per_10_seconds": 10**9,
                "orders_per_day": 10**9,
                "request_weight_per_minute": 10**9,
                "raw_requests_per_5_minutes": 10**9,
            }
            async with session.post(f"{sim.url}/_sim/limits", json=limits) as response:
                response.raise_for_status()
        yield sim
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)


async def connect(sim: RunningSim) -> AsyncClient:
    client_class: type[AsyncClient] = type("LoopbackClient", (AsyncClient,), {
        "API_URL": f"{sim.url}/api", "MARGIN_API_URL": f"{sim.url}/sapi",
        "WS_API_URL": sim.url.replace("http://", "ws://") + "/ws-api/v3",
        "REQUEST_RECVWINDOW": 5000,
    })  # fmt: skip
    client: AsyncClient = await client_class.create(sim.api_key, sim.api_secret)
    client.ws_api.TIMEOUT = 1  # bounds the wait for a last frame when closing (issue #1584)
    # Events still in flight when a user socket closes land in python-binance's own queue, which
    # nobody reads; at its default 100 items the read loop ends and the unsubscribe reply is lost.
    client.ws_api.max_queue_size = 1_000_000
    return client


async def place(client: AsyncClient, symbol: str) -> dict[str, Any]:
    price, quantity = RESTING[symbol]
    order: dict[str, Any] = await client.create_order(
        symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", quantity=quantity,
        price=price,
    )  # fmt: skip
    return order


async def order_loop(client: AsyncClient, symbol: str, until: float) -> int:
    placed = 0
    while time.monotonic() < until:
        order = await place(client, symbol)
        await client.cancel_order(symbol=symbol, orderId=order["orderId"])
        placed += 1
    return placed


async def measure_orders(sim: RunningSim, clients: int, seconds: float) -> float:
    connected = [await connect(sim) for _ in range(clients)]
    try:
        started = time.monotonic()
        counts = await asyncio.gather(*(
            order_loop(c, SYMBOLS[i % len(SYMBOLS)], started + seconds)
            for i, c in enumerate(connected)
        ))  # fmt: skip
        return sum(counts) / (time.monotonic() - started)
    finally:
        for client in connected:
            await client.close_connection()


async def drain(socket: Any, expected: int) -> None:
    received = 0
    while received < expected:
        event = await asyncio.wait_for(socket.recv(), 30)
        if event.get("e") == "error":
            raise RuntimeError(f"user stream failed: {event}")
        received += 1


async def measure_burst(sim: RunningSim) -> float:
    client = await connect(sim)
    try:
        async with BinanceSocketManager(client).user_socket() as socket:
            await asyncio.gather(*(
                place(client, symbol) for symbol in SYMBOLS for _ in range(BURST_ORDERS)
            ))  # fmt: skip
            await drain(socket, 2 * BURST_ORDERS * len(SYMBOLS))  # NEW + position each
            expected = (BURST_ORDERS + 1) * len(SYMBOLS)
            started = time.perf_counter()
            await asyncio.gather(*(client.cancel_all_open_orders(symbol=s) for s in SYMBOLS))
            await drain(socket, expected)
            return expected / (time.perf_counter() - started)
    finally:
        await client.close_connection()


async def measure_sustained(sim: RunningSim, clients: int, seconds: float) -> float:
    listener = await connect(sim)
    try:
        async with BinanceSocketManager(listener).user_socket() as socket:
            received = 0
            done = False

            async def count() -> None:
                nonlocal received
                while not done:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(socket.recv(), 0.5)
                        received += 1

            counter = asyncio.create_task(count())
            started = time.monotonic()
            await measure_orders(sim, clients, seconds)
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.5)  # let the last events arrive
            done = True
            await counter
            return received / elapsed
    finally:
        await listener.close_connection()


def summary(name: str, values: list[float], unit: str) -> str:
    return (
        f"{name:<28} median {statistics.median(values):8.0f} {unit}   "
        f"range {min(values):.0f}-{max(values):.0f}   runs {len(values)}"
    )


async def measure(
    runs: int, seconds: float, clients: int
) -> tuple[list[float], list[float], list[float]]:
    """Orders/s, burst events/s and sustained events/s, one value per run."""
    orders: list[float] = []
    bursts: list[float] = []
    sustained: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            async with running_sim(pathlib.Path(tmp)) as sim:
                orders.append(await measure_orders(sim, clients, seconds))
                bursts.append(await measure_burst(sim))
                sustained.append(await measure_sustained(sim, clients, seconds))
    return orders, bursts, sustained


async def main_async(runs: int, seconds: float, clients: int) -> None:
    orders, bursts, sustained = await measure(runs, seconds, clients)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {clients} clients, "
        f"{seconds:g} s per timed run"
    )
    print(summary("orders placed (+ cancels)", orders, "orders/s"))
    print(summary("user events, burst", bursts, "events/s"))
    print(summary("user events, with orders", sustained, "events/s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="fewer and shorter runs")
    parser.add_argument("--runs", type=int, default=None, help="repetitions (default 5)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent order clients")
    args = parser.parse_args()
    runs = args.runs or (2 if args.short else 5)
    asyncio.run(main_async(runs, 2.0 if args.short else 8.0, args.clients))


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    seconds = 2.0 if short else 8.0
    orders, bursts, sustained = asyncio.run(measure(2 if short else 5, seconds, 4))
    how = "spotdesk sim process, python-binance clients on loopback"
    return [
        from_samples(
            "orders", "orders placed (+ cancels)", orders, "orders/s",
            f"4 clients place+cancel resting LIMITs for {seconds:g} s; {how}", aim=Aim(">=", 300),
        ),
        from_samples(
            "burst", "user events, burst", bursts, "events/s",
            f"cancel-all of 796 orders -> events read by a user socket; {how}",
            aim=Aim(">=", 5000),
        ),
        from_samples(
            "sustained", "user events, with orders", sustained, "events/s",
            f"user socket while 4 clients place+cancel; {how}",
        ),
    ]  # fmt: skip
