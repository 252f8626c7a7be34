"""Fixtures shared by the tests of the embedded exchange: a started sim and python-binance.

`sim` is a SimServer on a free loopback port with a frozen market (prices move only through
the admin API) and the known demo key SIM_API_KEY / SIM_API_SECRET. Its clock runs with real
time but starts just after a whole minute of its own, so the fixed rate-limit windows (1
minute, 10 seconds) do not roll over during a test; clients sync to it, as python-binance's
`create()` does. `client` is an unmodified python-binance 1.0.37 AsyncClient pointed at it
(BINANCE.md 1.1), recvWindow 5000.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sim_testkit import (
    SIM_API_KEY,
    SIM_API_SECRET,
    SIM_SEED,
    AsyncClient,
    RawWire,
    connect_client,
    minute_aligned_clock,
)

from engine.sim.runner import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(
        port=0,
        seed=SIM_SEED,
        frozen_market=True,
        api_key=SIM_API_KEY,
        api_secret=SIM_API_SECRET,
        clock=minute_aligned_clock(),
    ) as server:
        yield server


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[AsyncClient]:
    connected = await connect_client(sim)
    try:
        yield connected
    finally:
        await connected.close_connection()


@pytest.fixture
async def wire(sim: SimServer) -> AsyncIterator[RawWire]:
    async with aiohttp.ClientSession() as session:
        yield RawWire(sim, session)


@pytest.fixture
async def client_factory(sim: SimServer) -> AsyncIterator[Any]:
    """`await client_factory(key, secret, **create_kwargs)`: more clients, closed at the end."""
    made: list[AsyncClient] = []

    async def make(
        api_key: str | None = None, api_secret: str | None = None, **kwargs: Any
    ) -> AsyncClient:
        created = await connect_client(sim, api_key, api_secret, **kwargs)
        made.append(created)
        return created

    try:
        yield make
    finally:
        for created in made:
            await created.close_connection()
