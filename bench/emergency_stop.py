"""Benchmark: the emergency stop, from the EmergencyStop command to zero open orders confirmed
by the exchange.

Method. The embedded exchange runs in its own process (`spotdesk sim`, frozen market, order
limits lifted: see `bench.sim_throughput.running_sim`); this process runs a real Engine (journal
on this machine's disk, user stream connected, started and reconciled) with risk limits wide
enough for the set-up. Each run: 100 resting LIMIT buys, 25 on each of four symbols, placed
through the engine (not timed); then `EmergencyStop` through the engine's client interface. The
time runs from the command to its answer, which the engine gives only after the exchange's open
orders of every symbol were read back empty (the verify phase); the answer must be OK and a last
`GET /api/v3/openOrders` (outside the timing) must list nothing. Each run uses a fresh exchange
process and engine. Reported: median and range (min-max) over the runs (5; 2 with --short).
Aim: under 2 s.

Run: `python -m bench.emergency_stop [--short]`.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import tempfile
import time
from decimal import Decimal

from pydantic import SecretStr

from bench.figure import Aim, Figure, from_samples
from bench.sim_throughput import RESTING, SYMBOLS, running_sim
from engine.config import Mode, Settings
from engine.risk import RiskLimits
from engine.service.api import CommandName, Outcome
from engine.service.engine import make_engine

ORDERS = 100
HUGE = Decimal(10) ** 12
# Only the stop is measured: limits that keep risk from refusing the 100 set-up orders.
SETUP_LIMITS = RiskLimits(
    max_trades_per_day=10**6,
    max_open_positions=10**6,
    min_order_value=Decimal(0),
    min_position_value=Decimal(0),
    max_order_value=HUGE,
    max_position_value=HUGE,
    max_position_share=Decimal(1),
    max_total_exposure=HUGE,
    max_long_exposure_share=Decimal(1),
    soft_notional_limit=HUGE,
    max_orders_per_minute=10**6,
)


async def one_run() -> float:
    with tempfile.TemporaryDirectory(prefix="spotdesk-bench-") as directory:
        return await _timed_stop(pathlib.Path(directory))


async def _timed_stop(data_dir: pathlib.Path) -> float:
    async with running_sim(data_dir) as sim:
        settings = Settings(
            _env_file=None,
            mode=Mode.SIM,
            sim_url=sim.url,
            data_dir=data_dir,
            api_key=SecretStr(sim.api_key),
            api_secret=SecretStr(sim.api_secret),
            risk=SETUP_LIMITS,
        )
        engine = make_engine(
            settings, symbols=SYMBOLS, market_data=False, reconcile_interval_s=None
        )
        await engine.start()
        try:
            client = engine.client
            for n in range(ORDERS):
                symbol = SYMBOLS[n % len(SYMBOLS)]
                price, quantity = RESTING[symbol]
                placed = await client.command(
                    CommandName.SUBMIT_ORDER,
                    {
                        "symbol": symbol,
                        "side": "buy",
                        "type": "limit",
                        "quantity": quantity,
                        "price": str(Decimal(price) - Decimal("0.01") * n),
                    },
                )
                if placed.outcome is not Outcome.OK:
                    raise RuntimeError(f"set-up order refused: {placed.message}")
            started = time.perf_counter()
            result = await client.command(CommandName.EMERGENCY_STOP, {"reason": "bench"})
            elapsed = time.perf_counter() - started
            if result.outcome is not Outcome.OK:
                raise RuntimeError(f"emergency stop not clean: {result.message}")
            left = await engine.parts.venue.open_orders()
            if left:
                raise RuntimeError(f"{len(left)} order(s) still open after the stop")
        finally:
            await engine.stop()
    return elapsed


async def measure(runs: int) -> list[float]:
    return [await one_run() for _ in range(runs)]


async def main_async(runs: int) -> None:
    times = await measure(runs)
    print(
        f"emergency stop, {ORDERS} open orders on {len(SYMBOLS)} symbols, command to zero "
        f"confirmed: median {statistics.median(times):.3f} s, range "
        f"{min(times):.3f}-{max(times):.3f} s, runs {runs} (aim < 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="fewer runs")
    args = parser.parse_args()
    asyncio.run(main_async(2 if args.short else 5))


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    times = asyncio.run(measure(2 if short else 5))
    method = f"EmergencyStop with {ORDERS} open orders -> zero confirmed by the exchange"
    return [from_samples("stop", "emergency stop", times, "s", method, aim=Aim("<=", 2.0))]
