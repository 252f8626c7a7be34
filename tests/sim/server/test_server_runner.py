"""The runner: addresses, the demo account, and the market moving with time unless frozen."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.sim.core.clock import ManualClock
from engine.sim.runner import DEMO_BALANCES, SimServer

BTC = "BTCUSDT"


async def test_addresses_and_demo_account() -> None:
    async with SimServer(port=0, frozen_market=True) as sim:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        assert sim.ws_api_url == f"ws://127.0.0.1:{sim.port}/ws-api/v3"
        assert sim.stream_url == f"ws://127.0.0.1:{sim.port}/"
        assert len(sim.api_key) == 64 and len(sim.api_secret) == 64
        balances = (await sim.admin.oracle(sim.demo_account_id))["balances"]
        assert {
            asset: Decimal(b["free"]) for asset, b in balances[str(sim.demo_account_id)].items()
        } == DEMO_BALANCES


async def test_the_market_follows_the_clock_unless_frozen() -> None:
    clock = ManualClock()
    async with (
        SimServer(port=0, clock=clock) as live,
        SimServer(port=0, clock=clock, frozen_market=True) as frozen,
    ):
        start = live.exchange.ticker_price({"symbol": BTC})
        assert frozen.exchange.ticker_price({"symbol": BTC}) == start
        clock.advance(30_000)
        for _ in range(50):
            if live.exchange.ticker_price({"symbol": BTC}) != start:
                break
            await asyncio.sleep(0.02)
        assert live.exchange.ticker_price({"symbol": BTC}) != start
        assert frozen.exchange.ticker_price({"symbol": BTC}) == start


async def test_a_wildcard_host_is_reached_through_loopback() -> None:
    async with SimServer(host="0.0.0.0", port=0, frozen_market=True) as sim:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        assert await sim.admin.oracle() is not None
