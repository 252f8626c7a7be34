"""Persistence: the state file survives restarts, is written soon after changes, stays private."""

from __future__ import annotations

import asyncio
import pathlib
import stat
import time

import pytest
from sim_testkit import connect_client

from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange
from engine.sim.runner import SimServer, SimStartError
from engine.sim.store import SimStore, Snapshot, StateFlusher, StoreError

BTC = "BTCUSDT"


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


async def test_changes_are_written_while_running(tmp_path: pathlib.Path) -> None:
    """What a SIGKILL would leave: the file as the flusher last wrote it."""
    path = tmp_path / "sim.sqlite"
    async with SimServer(port=0, state_path=path, frozen_market=True, flush_interval_s=0.05) as sim:
        await sim.admin.fund(sim.demo_account_id, "USDT", "1")
        reader = SimStore(path)
        reader.open()
        try:
            for _ in range(100):
                saved = reader.load()
                if saved is not None:
                    oracle = Exchange.from_state(saved.exchange, clock=ManualClock()).oracle()
                    usdt = oracle["balances"][sim.demo_account_id]["USDT"]["free"]
                    if usdt == "10001.00000000":
                        break
                await asyncio.sleep(0.02)
            else:
                pytest.fail("the change was not written within 2 s")
        finally:
            reader.close()


async def test_not_a_state_file_is_a_clear_start_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SimStartError, match="is not a spotdesk sim state file"):
        await SimServer(port=0, state_path=path).start()


def test_store_round_trip_and_schema_guard(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "deep" / "s.sqlite"
    store = SimStore(path)
    store.open()
    assert store.load() is None
    store.save(Snapshot(exchange={"a": 1}, server={"b": "2"}))
    store.save(Snapshot(exchange={"a": 3}, server={"b": "4"}))
    store.close()
    store.open()
    assert store.load() == Snapshot(exchange={"a": 3}, server={"b": "4"})
    store._conn().execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    store.close()
    with pytest.raises(StoreError, match="newer spotdesk"):
        SimStore(path).open()


async def test_flusher_paces_writes_by_snapshot_cost(tmp_path: pathlib.Path) -> None:
    """A snapshot that costs 50 ms, with at most half the loop's time for snapshots: the next
    write waits at least 100 ms although changes keep coming."""
    store = SimStore(tmp_path / "s.sqlite")
    store.open()
    taken: list[float] = []

    def take() -> Snapshot:
        taken.append(time.monotonic())
        time.sleep(0.05)  # an expensive to_state(), blocking as the real one does
        return Snapshot({"n": len(taken)}, {})

    flusher = StateFlusher(store, take, interval_s=0.01, busy_share=0.5)
    flusher.start()
    try:
        while len(taken) < 3:
            flusher.mark_dirty()
            await asyncio.sleep(0.005)
        assert flusher.pace_s >= 0.1
        assert taken[2] - taken[1] >= 0.1
    finally:
        await flusher.close()
    assert store.load() == Snapshot({"n": len(taken)}, {})
    store.close()
