"""Benchmark: restart-to-ready with a journal holding many fills and open orders.

Method. An embedded exchange runs in this process (`SimServer` on loopback, frozen market) so
the account's history can be made in bulk through its core: a real Engine (journal on this
machine's disk, WAL, synchronous=FULL; user stream connected) has each order's intent entered in
its book (as the desk would have done before sending), then the exchange core fills MARKET
orders of 10 BTC, buys and sells alternating, each walking many book levels, until the account
has `fills` trades; then `open_orders` LIMIT buys rest far below the market on two symbols. The
engine books all of it from its user stream (each chunk of orders is awaited before the next),
so the journal and the exchange agree as after a real run. The engine is stopped and a second
Engine on the same journal and exchange is timed from `start()` to its return: journal opened
and checked, state rebuilt, user stream connected, start-up reconciliation (open orders, trades,
balances) done and ready for commands. Reported: median and range over the restarts (3; 1 with
--short), and whether the reconciliation was clean. Aim: under 5 s.

Run: `python -m bench.growth_restart [--short] [--profile]` (100,000 fills and 200 open orders;
--short: 2,000 fills and 20 open orders).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pathlib
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from bench.figure import Aim, Figure, from_samples
from bench.process_memory import print_profile
from engine.config import Mode, Settings
from engine.core.intents import OrderIntent
from engine.core.types import OrderType, Side, TimeInForce
from engine.service.engine import Engine, make_engine
from engine.sim.runner import SimServer

SYMBOL = "BTCUSDT"
QUANTITY = "10"
CHUNK = 100  # orders seeded between waits for the engine to book them
RESTING = (("BTCUSDT", "50000.00", "0.00020"), ("ETHUSDT", "2000.00", "0.0050"))
CATCH_UP_S = 120.0


def _settings(sim: SimServer, data_dir: pathlib.Path) -> tuple[Settings, int]:
    """Settings for a new funded account on `sim`, and the account's id there."""
    account = sim.exchange.create_account(
        {"USDT": Decimal(10) ** 12, "BTC": Decimal(10) ** 6, "ETH": Decimal(10) ** 6},
        name="bench-restart",
    )
    key, secret = f"BenchKey{account:056d}", f"BenchSecret{account:053d}"
    sim.exchange.register_key(account, key, hmac_secret=secret)
    settings = Settings(
        _env_file=None,
        mode=Mode.SIM,
        data_dir=data_dir,
        sim_url=sim.url,
        api_key=SecretStr(key),
        api_secret=SecretStr(secret),
    )
    return settings, account


def _engine(settings: Settings) -> Engine:
    symbols = tuple(symbol for symbol, _, _ in RESTING)
    return make_engine(settings, symbols=symbols, market_data=False, reconcile_interval_s=None)


def _intent(engine: Engine, cid: str, symbol: str, side: Side, qty: str, price: str | None) -> None:
    parts = engine.parts
    intent = OrderIntent(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        type=OrderType.MARKET if price is None else OrderType.LIMIT,
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        time_in_force=None if price is None else TimeInForce.GTC,
        created_at=datetime.now(UTC),
    )
    parts.pipeline.record(parts.book.submit(intent))


async def _caught_up(engine: Engine, trade_id: int, open_count: int) -> None:
    """Until the engine has booked trade `trade_id` and holds `open_count` open orders."""
    book = engine.parts.book
    deadline = time.monotonic() + CATCH_UP_S
    while not (
        (trade_id == 0 or book.has_seen_fill(SYMBOL, trade_id))
        and len(book.open_orders()) == open_count
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the engine did not book the seeded history in time")
        await asyncio.sleep(0.05)


async def seed(
    sim: SimServer, account_id: int, engine: Engine, fills: int, open_orders: int
) -> int:
    """The account's history (see the module docstring); returns the fills made."""
    exchange = sim.exchange
    trades: list[int] = []

    def keep(event: dict[str, Any]) -> None:
        if event.get("e") == "executionReport" and event.get("x") == "TRADE":
            trades.append(int(event["t"]))

    exchange.add_user_listener(account_id, keep)
    number = 0
    while len(trades) < fills:
        for _ in range(CHUNK):
            number += 1
            side = Side.BUY if number % 2 else Side.SELL
            cid = f"sd-seed-{number}"
            _intent(engine, cid, SYMBOL, side, QUANTITY, None)
            exchange.step_market()  # the book refills, so each order walks the same levels
            exchange.new_order(
                account_id,
                {"symbol": SYMBOL, "side": side.value, "type": "MARKET",
                 "quantity": QUANTITY, "newClientOrderId": cid},
            )  # fmt: skip
            if len(trades) >= fills:
                break
        await _caught_up(engine, trades[-1], 0)
    for index in range(open_orders):
        symbol, price, qty = RESTING[index % len(RESTING)]
        cid = f"sd-rest-{index}"
        price = str(Decimal(price) - Decimal("0.01") * index)
        _intent(engine, cid, symbol, Side.BUY, qty, price)
        exchange.new_order(
            account_id,
            {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": qty, "price": price, "newClientOrderId": cid},
        )  # fmt: skip
    await _caught_up(engine, trades[-1] if trades else 0, open_orders)
    return len(trades)


def _size_mb(directory: pathlib.Path) -> float:
    """The journal's files (database, WAL) in MiB."""
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 2**20


async def measure(
    fills: int, open_orders: int, restarts: int, profile: cProfile.Profile | None = None
) -> dict[str, Any]:
    """Seeds once, then restarts `restarts` times; `profile` (if given) runs during the starts."""
    with tempfile.TemporaryDirectory(prefix="spotdesk-bench-") as tmp:
        data_dir = pathlib.Path(tmp)
        async with SimServer(port=0, seed=3, frozen_market=True) as sim:
            settings, account_id = _settings(sim, data_dir)
            engine = _engine(settings)
            await engine.start()
            seeding = time.perf_counter()
            try:
                made = await seed(sim, account_id, engine, fills, open_orders)
            finally:
                await engine.stop()
            seeded_s = time.perf_counter() - seeding
            journal_mb = _size_mb(data_dir)
            times: list[float] = []
            clean: list[bool] = []
            for _ in range(restarts):
                engine = _engine(settings)
                if profile is not None:
                    profile.enable()
                started = time.perf_counter()
                await engine.start()
                times.append(time.perf_counter() - started)
                if profile is not None:
                    profile.disable()
                try:
                    clean.append(bool(engine._last_reconcile["last_clean"]))
                    held = len(engine.parts.book.open_orders())
                finally:
                    await engine.stop()
    return {
        "fills": made,
        "open_orders": held,
        "times": times,
        "clean": all(clean),
        "seeded_s": seeded_s,
        "journal_mb": journal_mb,
    }


def _sizes(short: bool) -> tuple[int, int, int]:
    return (2_000, 20, 1) if short else (100_000, 200, 3)


def figures(short: bool) -> list[Figure]:
    """The protocol of `python -m bench` (bench/figure.py)."""
    result = asyncio.run(measure(*_sizes(short)))
    state = "clean" if result["clean"] else "NOT clean"
    method = (
        f"Engine.start() on a {result['journal_mb']:.0f} MB journal: {result['fills']:,} fills, "
        f"{result['open_orders']} open orders; reconciliation {state}; sim in-process"
    )
    return [from_samples("restart", "restart to ready", result["times"], "s", method,
                         aim=Aim("<=", 5.0))]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="2,000 fills, 20 open orders")
    parser.add_argument("--profile", action="store_true", help="under cProfile")
    args = parser.parse_args()
    sizes = _sizes(args.short)
    profile = cProfile.Profile() if args.profile else None
    result = asyncio.run(measure(*sizes, profile))
    if profile is not None:
        print_profile(profile)
    times = result["times"]
    print(
        f"restart to ready: {result['fills']:,} fills, {result['open_orders']} open orders, "
        f"journal {result['journal_mb']:.1f} MB (seeded in {result['seeded_s']:.0f} s)"
    )
    print(
        f"  median {statistics.median(times):.2f} s, range {min(times):.2f}-{max(times):.2f} s "
        f"over {len(times)} restart(s); reconciliation clean: {result['clean']} (aim < 5 s)"
    )


if __name__ == "__main__":
    main()
