"""Benchmark of the journal's group commit: throughput, and commit latency at a steady rate.

Run `python -m bench.journal_commit [--short]`. Three measurements, each on a fresh journal file
in a temporary directory (WAL, synchronous=FULL, as in production):

1. per-row: one writer awaits each event before the next, with batches capped at one row, so
   every row pays its own transaction and fsync (the baseline DESIGN.md quotes as ~1.3k rows/s);
2. grouped: 500 concurrent writers, each awaiting its own events, all sharing group commits
   (DESIGN.md's figure: ~60k rows/s), once with a fill-like payload (eight fields, three
   Decimals: encoding and checking it is most of the cost) and once with a one-field payload;
3. steady: events offered at a fixed 5,000/s; latency is from the write call to the durable
   commit of that row (aim: p99 <= 10 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal

from bench.figure import Aim, Figure
from engine.journal import Journal


def _payload(index: int) -> dict[str, object]:
    """A typical fill event, about 200 bytes of JSON."""
    return {
        "client_order_id": f"sd-1-{index:012d}",
        "symbol": "BTCUSDT",
        "side": "BUY",
        "price": Decimal("43210.12"),
        "qty": Decimal("0.00123"),
        "commission": Decimal("0.00000123"),
        "commission_asset": "BTC",
        "trade_id": index,
    }


async def _per_row(path: pathlib.Path, rows: int) -> tuple[float, int]:
    async with await Journal.open(path, mode="sim", account="bench", max_batch=1) as journal:
        started = time.perf_counter()
        for index in range(rows):
            await journal.append_event("OrderFilled", _payload(index))
        elapsed = time.perf_counter() - started
        return rows / elapsed, journal.stats.transactions


def _tiny_payload(index: int) -> dict[str, object]:
    """The smallest useful row, to see the journal's own cost without payload encoding."""
    return {"n": index}


async def _grouped(
    path: pathlib.Path, rows: int, writers: int, payload: Callable[[int], dict[str, object]]
) -> tuple[float, int, int]:
    per_writer = rows // writers

    async def writer(offset: int, journal: Journal) -> None:
        for index in range(per_writer):
            await journal.append_event("OrderFilled", payload(offset + index))

    async with await Journal.open(path, mode="sim", account="bench") as journal:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for number in range(writers):
                group.create_task(writer(number * per_writer, journal))
        elapsed = time.perf_counter() - started
        stats = journal.stats
        return per_writer * writers / elapsed, stats.transactions, stats.largest_batch


async def _steady(path: pathlib.Path, rate: int, seconds: float) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    pending: list[asyncio.Future[int]] = []

    def on_commit(called_at: float) -> object:
        def record(future: asyncio.Future[int]) -> None:
            if not future.cancelled() and future.exception() is None:
                latencies.append(time.perf_counter() - called_at)

        return record

    async with await Journal.open(path, mode="sim", account="bench") as journal:
        total = int(rate * seconds)
        started = time.perf_counter()
        sent = 0
        while sent < total:
            # Offer every event that is due by now, then yield ~1 ms: a steady, paced stream.
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            while sent < due:
                future = journal.append_event("OrderFilled", _payload(sent))
                future.add_done_callback(on_commit(time.perf_counter()))  # type: ignore[arg-type]
                pending.append(future)
                sent += 1
            await asyncio.sleep(0.001)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
        return latencies, total / elapsed, journal.stats.transactions


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


async def measure(short: bool) -> dict[str, float]:
    """Every figure of the module docstring's three measurements, printed as they come."""
    per_row_rows = 1_000 if short else 5_000
    grouped_rows = 40_000 if short else 200_000
    writers = 500
    steady_seconds = 2.0 if short else 10.0
    rate = 5_000
    result: dict[str, float] = {}
    print("journal commit benchmark (engine/journal): WAL, synchronous=FULL, one writer task")
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="spotdesk-bench-") as tmp:
        base = pathlib.Path(tmp)
        per_row_rate, per_row_tx = await _per_row(base / "per_row.sqlite3", per_row_rows)
        result["per_row"] = per_row_rate
        print(
            f"per-row : {per_row_rows} events, one awaited at a time, max_batch=1 -> "
            f"{per_row_rate:,.0f} rows/s ({per_row_tx} transactions)"
        )
        for label, payload in (("fill-like ~200 B", _payload), ("tiny {n}", _tiny_payload)):
            grouped_rate, grouped_tx, largest = await _grouped(
                base / f"grouped-{payload.__name__}.sqlite3", grouped_rows, writers, payload
            )
            result[f"grouped{payload.__name__}"] = grouped_rate
            print(
                f"grouped : {grouped_rows} events ({label} payload) from {writers} concurrent "
                f"writers -> {grouped_rate:,.0f} rows/s ({grouped_tx} transactions, mean batch "
                f"{grouped_rows / grouped_tx:.0f}, largest {largest}); "
                f"{grouped_rate / per_row_rate:.0f}x per-row"
            )
        latencies, achieved, steady_tx = await _steady(
            base / "steady.sqlite3", rate, steady_seconds
        )
        ms = [value * 1000 for value in latencies]
        result.update(
            steady_p50=_quantile(ms, 0.5), steady_p99=_quantile(ms, 0.99), steady_max=max(ms)
        )
        print(
            f"steady  : {rate}/s offered for {steady_seconds:.0f} s (achieved {achieved:,.0f}/s, "
            f"{steady_tx} transactions): commit latency p50 {_quantile(ms, 0.5):.2f} ms, "
            f"p99 {_quantile(ms, 0.99):.2f} ms, max {max(ms):.2f} ms (aim p99 <= 10 ms)"
        )
    return result


async def _main(short: bool) -> None:
    await measure(short)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="fewer rows, a 2 s steady run")
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.short))


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    result = asyncio.run(measure(short))
    how = "engine Journal, WAL, synchronous=FULL, temp dir"
    return [
        Figure("per_row", "one row per commit (anchor)", result["per_row"], "rows/s",
               f"one awaited append at a time, max_batch=1; {how}"),
        Figure("grouped", "group commit, fill-like rows", result["grouped_payload"],
               "rows/s", f"500 concurrent writers; {how}", anchor="per_row"),
        Figure("steady", "commit latency at 5,000 rows/s", result["steady_p99"],
               "ms p99", f"write call -> durable commit, rows offered on schedule; {how}",
               low=result["steady_p50"], high=result["steady_max"], spread="p50-max",
               aim=Aim("<=", 10.0)),
    ]  # fmt: skip
