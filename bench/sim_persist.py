"""Benchmark: the cost of persisting the embedded exchange, per flush, by history size.

Method. An Exchange (ManualClock, BTCUSDT held at its starting price) is given a history of N
orders: per 50 steps 20 resting LIMIT buys cancelled, 4 left open (cancelled in bulk every 500
steps, before the 200-order filter bites), 25 MARKET fills and one OCO (two orders) cancelled.
Then, 20 times, one flush's worth of activity (a MARKET fill, a resting LIMIT and the cancel of
an older one) is followed by one flush, timed in two parts:

- on the loop: what the flusher runs on the event loop. `delta`: `Exchange.state_delta()`;
  `whole` (the previous design): `Exchange.to_state()` and its JSON encoding;
- write: what runs on the worker thread. `delta`: `SimStore.write` (JSON of the rows and the
  small state, one SQLite transaction, WAL, synchronous=NORMAL); `whole`: one upsert of the
  encoded document into a one-row table of the same kind of file.

Reported: the median of each part, in milliseconds, for N = 1,000, 20,000 and 100,000 (or the
sizes given). Run: `python -m bench.sim_persist [--mode delta|whole|both] [N ...]`. The `whole`
mode uses only the public Exchange API, so it also runs against an older checkout of the core.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.figure import Figure
from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange

SYMBOL = "BTCUSDT"
FLUSHES = 20


def build(orders: int) -> tuple[Exchange, ManualClock, int]:
    """An exchange whose history holds `orders` orders (see the module docstring)."""
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=1)
    account = exchange.create_account({"USDT": Decimal(10**12), "BTC": Decimal(10**6)})
    ticker = exchange.ticker_price({"symbol": SYMBOL})
    assert isinstance(ticker, dict)
    price = Decimal(ticker["price"])
    placed = step = 0
    while placed < orders:
        step += 1
        clock.advance(10)
        phase = step % 50
        if phase < 24:
            order = _limit(exchange, account)
            if phase < 20:
                _cancel(exchange, account, order["orderId"])
            placed += 1
        elif phase < 49:
            _market(exchange, account, "BUY" if phase % 2 else "SELL")
            placed += 1
        else:
            placed += _oco_cancelled(exchange, account)
        if phase == 0:
            # Taken synthetic liquidity comes back only when the market moves: move it to
            # where it is, so that market orders keep filling against the synthetic book.
            exchange.set_price(SYMBOL, price)
        if step % 500 == 0:
            exchange.cancel_open_orders(account, {"symbol": SYMBOL})
    return exchange, clock, account


def _limit(exchange: Exchange, account: int) -> dict[str, Any]:
    params = {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "50000.00",
    }
    return exchange.new_order(account, params)


def _market(exchange: Exchange, account: int, side: str) -> None:
    params = {"symbol": SYMBOL, "side": side, "type": "MARKET", "quantity": "0.001"}
    exchange.new_order(account, params)


def _cancel(exchange: Exchange, account: int, order_id: int) -> None:
    exchange.cancel_order(account, {"symbol": SYMBOL, "orderId": str(order_id)})


def _oco_cancelled(exchange: Exchange, account: int) -> int:
    placed = exchange.new_oco(
        account,
        {
            "symbol": SYMBOL,
            "side": "SELL",
            "quantity": "0.001",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": "200000.00",
            "belowType": "STOP_LOSS",
            "belowStopPrice": "1000.00",
        },
    )
    exchange.cancel_order_list(
        account, {"symbol": SYMBOL, "orderListId": str(placed["orderListId"])}
    )
    return 2


def activity(exchange: Exchange, clock: ManualClock, account: int, previous: int | None) -> int:
    """One flush interval's worth of changes; returns the resting order to cancel next time."""
    clock.advance(200)
    _market(exchange, account, "BUY")
    resting = _limit(exchange, account)
    if previous is not None:
        _cancel(exchange, account, previous)
    order_id: int = resting["orderId"]
    return order_id


def measure(orders: int, mode: str, directory: pathlib.Path) -> tuple[float, float]:
    """(median ms on the loop, median ms writing) over FLUSHES flushes."""
    exchange, clock, account = build(orders)
    take, write, close = _flusher_parts(exchange, mode, directory / f"{mode}-{orders}.sqlite")
    on_loop: list[float] = []
    writing: list[float] = []
    previous: int | None = None
    take()  # the first write of a new file is the whole state
    try:
        for _ in range(FLUSHES):
            previous = activity(exchange, clock, account, previous)
            started = time.perf_counter()
            taken = take()
            between = time.perf_counter()
            write(taken)
            on_loop.append(between - started)
            writing.append(time.perf_counter() - between)
    finally:
        close()
    return statistics.median(on_loop) * 1000, statistics.median(writing) * 1000


def _flusher_parts(
    exchange: Exchange, mode: str, path: pathlib.Path
) -> tuple[Callable[[], Any], Callable[[Any], None], Callable[[], None]]:
    if mode == "delta":
        from engine.sim.store import SimStore, Snapshot

        store = SimStore(path)
        store.open()
        store.write(Snapshot(exchange.state_delta(), {}))
        return (
            lambda: Snapshot(exchange.state_delta(), {}),
            store.write,
            store.close,
        )
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE snapshot (id INTEGER PRIMARY KEY, exchange TEXT NOT NULL)")

    def write(document: str) -> None:
        db.execute(
            "INSERT INTO snapshot (id, exchange) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET exchange = excluded.exchange",
            (document,),
        )

    return (
        lambda: json.dumps(exchange.to_state(), separators=(",", ":")),
        write,
        db.close,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("delta", "whole", "both"), default="both")
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 20_000, 100_000])
    args = parser.parse_args()
    modes = ("delta", "whole") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory() as scratch:
        for orders in args.sizes:
            for mode in modes:
                loop_ms, write_ms = measure(orders, mode, pathlib.Path(scratch))
                print(
                    f"{orders:>7} orders  {mode:<5}  on the loop {loop_ms:9.2f} ms"
                    f"  write {write_ms:9.2f} ms",
                    flush=True,
                )


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py): one flush's cost at the largest
    history, delta (the design) against whole-state (the previous design, the anchor)."""
    orders = 2_000 if short else 100_000
    method = f"median of {FLUSHES} flushes, exchange history of {orders:,} orders"
    result: list[Figure] = []
    with tempfile.TemporaryDirectory() as scratch:
        for mode in ("whole", "delta"):
            loop_ms, write_ms = measure(orders, mode, pathlib.Path(scratch))
            anchor = None if mode == "whole" else "whole"
            name = "whole state (anchor)" if mode == "whole" else "delta"
            result.append(
                Figure(mode, f"{name}, on the loop", loop_ms, "ms", method,
                       anchor=anchor)
            )  # fmt: skip
            result.append(
                Figure(f"{mode}_write", f"{name}, write", write_ms, "ms", method,
                       anchor=None if anchor is None else "whole_write")
            )  # fmt: skip
    return result
