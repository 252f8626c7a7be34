"""Benchmark: the venue adapter's own overhead on the order path.

Method: one embedded exchange (frozen market, order limits lifted) on loopback, and in the same
process two python-binance 1.0.37 clients on identical aiohttp sessions: the BinanceVenue's and a
bare AsyncClient pointed at the same exchange (BINANCE.md 1.1 recipe B). For each order the time is
taken from the call (`venue.create_order(...)` or the bare `client.create_order(...)`) to the
moment aiohttp has written the request headers (an aiohttp TraceConfig `on_request_headers_sent`
hook), so the exchange's and the network's time are excluded. The two paths alternate order by
order (resting LIMIT buys far below the market, cancelled in batches outside the timing) so that
drift affects both alike. Reported: p50 and p99 of each path, the adapter's extra time (venue minus
bare) at p50 and p99, and their ratio. Aim: adapter overhead at p99 <= 1 ms.

Run: `python -m bench.order_path [--short]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import warnings
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import aiohttp
from pydantic import SecretStr

from engine.config import Mode
from engine.sim.runner import SimServer
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.endpoints import Credentials, endpoints_for
from engine.venue.timing import SystemClock

with warnings.catch_warnings():  # python-binance imports websockets' deprecated legacy API
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient

SYMBOL = "BTCUSDT"
PRICE = Decimal("50000.00")  # far below the market: the order rests
QTY = Decimal("0.00020")
BATCH = 40  # orders per side between cancel-alls (keeps balances and open-order counts low)


class _WriteMarks:
    """Records when aiohttp finished writing the headers of the latest request."""

    def __init__(self) -> None:
        self.written_ns = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_headers_sent.append(self._on_sent)

    async def _on_sent(self, session: aiohttp.ClientSession, ctx: SimpleNamespace,
                       params: aiohttp.TraceRequestHeadersSentParams) -> None:
        self.written_ns = time.perf_counter_ns()


async def _timed(marks: _WriteMarks, call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter_ns()
    await call()
    return (marks.written_ns - started) / 1e6


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(orders: int) -> dict[str, float]:
    async with SimServer(port=0, seed=1, frozen_market=True) as sim:
        await sim.admin.limits(orders_per_10_seconds=10**9, orders_per_day=10**9,
                               request_weight_per_minute=10**9,
                               raw_requests_per_5_minutes=10**9)
        venue_marks, bare_marks = _WriteMarks(), _WriteMarks()
        venue = BinanceVenue(
            endpoints_for(Mode.SIM, sim.url),
            Credentials(SecretStr(sim.api_key), api_secret=SecretStr(sim.api_secret)),
            clock=SystemClock(),
            options=VenueOptions(session_params={"trace_configs": [venue_marks.trace]}),
        )
        await venue.start()
        bare = AsyncClient(sim.api_key, sim.api_secret,
                           session_params={"trace_configs": [bare_marks.trace]})
        bare.API_URL = f"{sim.url}/api"
        bare.REQUEST_RECVWINDOW = 5000
        bare.timestamp_offset = venue.client.timestamp_offset
        venue_ms: list[float] = []
        bare_ms: list[float] = []
        try:
            for n in range(orders):
                venue_ms.append(await _timed(venue_marks, lambda n=n: venue.create_order(
                    symbol=SYMBOL, side="BUY", order_type="LIMIT", client_order_id=f"bv-{n}",
                    quantity=QTY, price=PRICE, time_in_force="GTC")))
                bare_ms.append(await _timed(bare_marks, lambda n=n: bare.create_order(
                    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity=format(QTY, "f"), price=format(PRICE, "f"),
                    newClientOrderId=f"bb-{n}", newOrderRespType="FULL")))
                if (n + 1) % BATCH == 0:
                    await venue.cancel_all(SYMBOL)
        finally:
            await bare.close_connection()
            await venue.close()
    warmup = min(20, orders // 10)
    venue_ms, bare_ms = venue_ms[warmup:], bare_ms[warmup:]
    extra = [v - b for v, b in zip(venue_ms, bare_ms, strict=True)]
    return {
        "orders": float(len(venue_ms)),
        "venue_p50_ms": _pct(venue_ms, 0.5),
        "venue_p99_ms": _pct(venue_ms, 0.99),
        "bare_p50_ms": _pct(bare_ms, 0.5),
        "bare_p99_ms": _pct(bare_ms, 0.99),
        "overhead_p50_ms": _pct(venue_ms, 0.5) - _pct(bare_ms, 0.5),
        "overhead_p99_ms": _pct(venue_ms, 0.99) - _pct(bare_ms, 0.99),
        "paired_extra_median_ms": statistics.median(extra),
        "ratio_p50": _pct(venue_ms, 0.5) / _pct(bare_ms, 0.5),
        "ratio_p99": _pct(venue_ms, 0.99) / _pct(bare_ms, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="200 orders per path, not 2000")
    args = parser.parse_args()
    orders = 200 if args.short else 2000
    result = asyncio.run(run(orders))
    print(f"order path, call -> request headers written, {int(result['orders'])} orders per "
          "path after warm-up, embedded exchange on loopback")
    print(f"  venue : p50 {result['venue_p50_ms']:.3f} ms   p99 {result['venue_p99_ms']:.3f} ms")
    print(f"  bare  : p50 {result['bare_p50_ms']:.3f} ms   p99 {result['bare_p99_ms']:.3f} ms")
    print(f"  adapter overhead: p50 {result['overhead_p50_ms']:+.3f} ms   "
          f"p99 {result['overhead_p99_ms']:+.3f} ms   (paired median "
          f"{result['paired_extra_median_ms']:+.3f} ms)")
    print(f"  ratio venue/bare: p50 {result['ratio_p50']:.2f}   p99 {result['ratio_p99']:.2f}")
    verdict = "meets" if result["overhead_p99_ms"] <= 1.0 else "MISSES"
    print(f"  aim (overhead p99 <= 1 ms): {verdict}")


if __name__ == "__main__":
    main()
