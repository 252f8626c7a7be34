"""Persistence: the state file is written incrementally, survives restarts and a SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import re
import signal
import sqlite3
import stat
import sys
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sim_testkit import RawWire, connect_client

from engine.sim.core.clock import ManualClock, SystemClock
from engine.sim.core.errors import SimError
from engine.sim.core.exchange import Exchange
from engine.sim.runner import SimServer, SimStartError
from engine.sim.store import SimStore, Snapshot, StateFlusher, StoreError

BTC = "BTCUSDT"
SOL = "SOLUSDT"
D = Decimal
ROOT = pathlib.Path(__file__).resolve().parents[3]
T0 = 1_700_000_000_000


async def test_state_survives_a_restart(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sim.sqlite"
    async with SimServer(port=0, state_path=path, frozen_market=True, seed=3) as first:
        key, secret, account = first.api_key, first.api_secret, first.demo_account_id
        await first.admin.set_price(BTC, "94000.00")
        other = await first.admin.create_account({"USDT": "50"})
        extra = await first.admin.register_key(other, api_key="ExtraKey1", secret="extra")
        await first.admin.limits(orders_per_day=1234)
        await first.admin.skew_clock(-250)
        client = await connect_client(first)
        try:
            await client.create_order(
                symbol=BTC,
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.001",
                price="90000.00",
                newClientOrderId="keep-1",
            )
            await client.order_market_buy(symbol=BTC, quantity="0.001")
        finally:
            await client.close_connection()
        before = await first.admin.oracle()
        tickers = first.exchange.ticker_price({})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    async with SimServer(port=0, state_path=path, frozen_market=True, seed=99) as second:
        assert (second.api_key, second.api_secret, second.demo_account_id) == (key, secret, account)
        assert await second.admin.oracle() == before
        assert second.exchange.ticker_price({}) == tickers
        assert (await second.admin.limits())["orders_per_day"] == 1234
        assert (await second.admin.call("GET", "clock"))["skew_ms"] == -250
        client = await connect_client(second)
        again = await connect_client(second, extra["apiKey"], "extra")
        try:
            assert [o["clientOrderId"] for o in await client.get_open_orders(symbol=BTC)] == [
                "keep-1"
            ]
            assert {b["asset"]: b["free"] for b in (await again.get_account())["balances"]}[
                "USDT"
            ] == "50.00000000"
        finally:
            await client.close_connection()
            await again.close_connection()


async def test_a_new_key_asked_for_on_restart_is_added(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sim.sqlite"
    async with SimServer(port=0, state_path=path, frozen_market=True) as first:
        old_key = first.api_key
    async with SimServer(
        port=0, state_path=path, frozen_market=True, api_key="NewKey1", api_secret="new-secret"
    ) as second:
        assert (second.api_key, second.api_secret) == ("NewKey1", "new-secret")
        assert second.exchange.key(old_key) is not None
    async with SimServer(port=0, state_path=path, frozen_market=True) as third:
        assert (third.api_key, third.api_secret) == ("NewKey1", "new-secret")


# -- history: many orders through the store ------------------------------------------------


def busy_exchange(clock: ManualClock) -> tuple[Exchange, int]:
    exchange = Exchange(clock=clock, seed=5)
    account = exchange.create_account({"USDT": D(1_000_000), "SOL": D(10_000)})
    exchange.set_price(SOL, D("100.00"))
    return exchange, account


def busy_step(exchange: Exchange, account: int, step: int) -> None:
    """One of: a resting buy, fills both ways, an OCO, cancels, a market move through them."""
    sol = {"symbol": SOL}
    kind = step % 6
    if kind == 0:
        price = "99.50" if step % 12 else "97.00"
        exchange.new_order(
            account,
            sol
            | {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1.00"}
            | {"price": price},
        )
    elif kind in (1, 4):
        side = "BUY" if kind == 1 else "SELL"
        exchange.new_order(account, sol | {"side": side, "type": "MARKET", "quantity": "0.50"})
    elif kind == 2:
        exchange.new_oco(
            account,
            sol
            | {"side": "SELL", "quantity": "1.00", "aboveType": "LIMIT_MAKER"}
            | {"abovePrice": "103.00", "belowType": "STOP_LOSS", "belowStopPrice": "98.50"},
        )
    elif kind == 3:
        open_now = exchange.open_orders(account, sol)
        if len(open_now) > 6:
            exchange.cancel_open_orders(account, sol)
        elif open_now:
            exchange.cancel_order(account, sol | {"orderId": str(open_now[0]["orderId"])})
    else:
        if step % 12 == 5:  # down through the resting buys and the OCO stops, and back
            exchange.set_price(SOL, D("98.00"))
        exchange.set_price(SOL, D("100.00"))


def test_store_round_trip_after_many_orders(tmp_path: pathlib.Path) -> None:
    clock = ManualClock(T0)
    exchange, account = busy_exchange(clock)
    store = SimStore(tmp_path / "s.sqlite")
    store.open()
    for step in range(600):
        clock.advance(50)
        busy_step(exchange, account, step)
        if step % 7 == 0:
            store.write(Snapshot(exchange.state_delta(), {"step": step}))
    store.write(Snapshot(exchange.state_delta(), {"step": 600}))
    store.close()
    store.open()
    loaded = store.load()
    store.close()
    assert loaded is not None
    assert loaded.server == {"step": 600}
    assert loaded.exchange == exchange.to_state()
    statuses = {row["status"] for row in loaded.exchange["orders"]}
    assert statuses == {"NEW", "FILLED", "CANCELED", "EXPIRED"}
    lists = {row["list_order_status"] for row in loaded.exchange["lists"]}
    assert lists == {"ALL_DONE", "EXECUTING"}
    assert len(loaded.exchange["orders"]) == 500
    assert len(loaded.exchange["trades"]) > 200
    restored = Exchange.from_state(loaded.exchange, clock=ManualClock(clock.now_ms()))
    assert restored.oracle() == exchange.oracle()


def test_a_write_touches_only_the_changed_rows(tmp_path: pathlib.Path) -> None:
    clock = ManualClock(T0)
    exchange, account = busy_exchange(clock)
    store = SimStore(tmp_path / "s.sqlite")
    store.open()
    for step in range(120):
        busy_step(exchange, account, step)
    store.write(Snapshot(exchange.state_delta(), {}))
    db = store._conn()
    before = db.total_changes
    market = {"symbol": SOL, "side": "BUY", "type": "MARKET", "quantity": "0.50"}
    filled = exchange.new_order(account, market)
    delta = exchange.state_delta()
    assert [row["order_id"] for row in delta["orders"]] == [filled["orderId"]]
    assert [(row[0], row[1]) for row in delta["trades"]] == [(SOL, filled["fills"][0]["tradeId"])]
    store.write(Snapshot(delta, {}))
    assert db.total_changes - before == 3  # the order, its trade, the small state
    store.close()


async def test_the_flusher_writes_when_driven_and_retries_a_failed_write(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(T0)
    exchange, account = busy_exchange(clock)
    store = SimStore(tmp_path / "s.sqlite")
    store.open()
    flusher = StateFlusher(store, lambda: Snapshot(exchange.state_delta(), {"n": 1}))
    busy_step(exchange, account, 0)  # order 1 rests
    flusher.mark_dirty()
    assert store.load() is None  # not started: nothing is written until asked
    await flusher.flush_now()
    assert flusher.writes == 1

    busy_step(exchange, account, 1)  # order 2 fills

    def failing(changes: Snapshot) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "write", failing)
    with pytest.raises(OSError, match="disk full"):
        await flusher.flush_now()
    monkeypatch.undo()
    busy_step(exchange, account, 2)  # orders 3 and 4: an OCO
    await flusher.close()
    assert flusher.writes == 2
    loaded = store.load()
    assert loaded is not None
    assert [row["order_id"] for row in loaded.exchange["orders"]] == [1, 2, 3, 4]
    assert loaded.exchange == exchange.to_state()
    store.close()


async def test_a_restart_continues_ids_and_balances_exactly(tmp_path: pathlib.Path) -> None:
    """The exchange as the first server left it, and the one restored from its file, answer
    the same operations identically."""
    path = tmp_path / "sim.sqlite"
    clock = ManualClock(T0)
    async with SimServer(port=0, state_path=path, frozen_market=True, clock=clock) as first:
        account = first.demo_account_id
        first.exchange.fund(account, "USDT", D(100_000))
        first.exchange.fund(account, "SOL", D(1_000))
        first.exchange.set_price(SOL, D("100.00"))
        for step in range(60):
            clock.advance(50)
            busy_step(first.exchange, account, step)
        await first.flush_state()
        for step in range(60, 90):
            clock.advance(50)
            busy_step(first.exchange, account, step)
        left = first.exchange
    async with SimServer(port=0, state_path=path, frozen_market=True, clock=clock) as second:
        again = second.exchange
        assert again.oracle() == left.oracle()
        for step in range(90, 150):
            clock.advance(50)
            for exchange in (left, again):
                busy_step(exchange, account, step)
        buy = {"symbol": SOL, "side": "BUY", "type": "MARKET", "quantity": "0.50"}
        answers = [exchange.new_order(account, buy) for exchange in (left, again)]
        assert answers[0] == answers[1]
        assert answers[1]["orderId"] == 126
        assert again.to_state() == left.to_state()
        assert again.oracle()["balances"] == left.oracle()["balances"]


async def test_a_reset_replaces_the_saved_history(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sim.sqlite"
    async with SimServer(port=0, state_path=path, frozen_market=True) as sim:
        account = sim.demo_account_id
        market = {"symbol": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.001"}
        sim.exchange.new_order(account, market)
        await sim.flush_state()
        await sim.admin.reset()
        await sim.flush_state()
        reader = SimStore(path)
        reader.open()
        saved = reader.load()
        reader.close()
        assert saved is not None
        assert (saved.exchange["orders"], saved.exchange["trades"]) == ([], [])
        assert saved.exchange == sim.exchange.to_state()


# -- the file format ------------------------------------------------------------------------


async def test_a_file_of_the_first_schema_is_converted(tmp_path: pathlib.Path) -> None:
    clock = ManualClock(T0)
    exchange, account = busy_exchange(clock)
    for step in range(40):
        busy_step(exchange, account, step)
    exchange.register_key(account, "OldKey1", hmac_secret="old-secret")
    state = exchange.to_state()
    server = {"demo_account_id": account, "api_key": "OldKey1", "clock_skew_ms": 0}
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL,"
        " exchange TEXT NOT NULL, server TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
    )
    db.execute("INSERT INTO snapshot VALUES (1, 0, ?, ?)", (json.dumps(state), json.dumps(server)))
    db.commit()
    db.close()

    store = SimStore(path)
    store.open()
    assert store.load() == Snapshot(state, server)
    tables = {r[0] for r in store._conn().execute("SELECT name FROM sqlite_master")}
    version = store._conn().execute("SELECT value FROM meta").fetchone()
    store.close()
    assert "snapshot" not in tables
    assert version == ("2",)
    async with SimServer(port=0, state_path=path, frozen_market=True, clock=clock) as sim:
        assert (sim.api_key, sim.api_secret) == ("OldKey1", "old-secret")
        assert sim.exchange.oracle() == exchange.oracle()


async def test_not_a_state_file_is_a_clear_start_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SimStartError, match="is not a spotdesk sim state file"):
        await SimServer(port=0, state_path=path).start()
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="is not a spotdesk sim state file"):
        SimStore(foreign).open()


def test_a_newer_schema_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "deep" / "s.sqlite"
    store = SimStore(path)
    store.open()
    assert store.load() is None
    store._conn().execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    store.close()
    with pytest.raises(StoreError, match=r"newer spotdesk \(schema 99\)"):
        SimStore(path).open()


# -- a SIGKILL of `spotdesk sim` ------------------------------------------------------------


async def start_sim_process(
    state: pathlib.Path,
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "engine.cli", "sim", "--port", "0", "--state", str(state), "--frozen-market"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert process.stdout is not None
    banner: dict[str, str] = {}
    while "Press Ctrl-C to stop." not in banner:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if not line:
            pytest.fail("spotdesk sim ended early")
        match = re.fullmatch(r"  (REST|API key|API secret)\s+(\S+).*\n", line)
        if match:
            banner[match.group(1)] = match.group(2)
        banner[line.strip()] = ""
    return process, banner


async def saved_orders(state: pathlib.Path, wanted: set[tuple[int, str]]) -> dict[str, Any]:
    """Poll the file until its orders include `wanted` (order id, status); the saved state."""
    reader = SimStore(state)
    reader.open()
    try:
        async with asyncio.timeout(30):
            while True:
                saved = reader.load()
                if saved is not None:
                    have = {(o["order_id"], o["status"]) for o in saved.exchange["orders"]}
                    if wanted <= have:
                        return saved.exchange
                await asyncio.sleep(0.01)
    finally:
        reader.close()


async def test_orders_answered_before_a_sigkill_are_kept(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state.sqlite"
    process, banner = await start_sim_process(state)
    try:
        base = banner["REST"].removesuffix("/api/v3/")
        peer = SimpleNamespace(
            url=base,
            api_key=banner["API key"],
            api_secret=banner["API secret"],
            clock=SystemClock(),
        )
        async with aiohttp.ClientSession() as session:
            wire = RawWire(peer, session)  # type: ignore[arg-type]
            limit = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
            rest = limit | {"quantity": "0.00100", "price": "50000.00"}
            answers = [
                await wire.request("POST", "/api/v3/order", rest, signed=True),
                await wire.request("POST", "/api/v3/order", rest, signed=True),
                await wire.request(
                    "POST",
                    "/api/v3/order",
                    {"symbol": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.00100"},
                    signed=True,
                ),
                await wire.request(
                    "DELETE", "/api/v3/order", {"symbol": BTC, "orderId": "1"}, signed=True
                ),
            ]
            assert [status for status, _, _ in answers] == [200, 200, 200, 200]
            status, account, _ = await wire.request("GET", "/api/v3/account", signed=True)
            assert status == 200
        wanted = {(1, "CANCELED"), (2, "NEW"), (3, "FILLED")}
        await saved_orders(state, wanted)
    finally:
        process.kill()
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == -signal.SIGKILL
    async with SimServer(port=0, state_path=state, frozen_market=True) as again:
        oracle = again.exchange.oracle(again.demo_account_id)
        assert {(o["orderId"], o["status"]) for o in oracle["orders"]} == wanted
        balances = {b["asset"]: b for b in account["balances"]}
        for asset, amounts in oracle["balances"][again.demo_account_id].items():
            assert (balances[asset]["free"], balances[asset]["locked"]) == (
                amounts["free"],
                amounts["locked"],
            ), asset
        market = {"symbol": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.00100"}
        assert again.exchange.new_order(again.demo_account_id, market)["orderId"] == 4


def test_sim_errors_do_not_leave_rows_unsaved() -> None:
    """A rejected order changes nothing and puts nothing in the next delta."""
    clock = ManualClock(T0)
    exchange, account = busy_exchange(clock)
    exchange.state_delta()
    with pytest.raises(SimError):
        exchange.new_order(account, {"symbol": SOL, "side": "BUY", "type": "MARKET"})
    delta = exchange.state_delta()
    assert (delta["orders"], delta["lists"], delta["trades"]) == ([], [], [])
