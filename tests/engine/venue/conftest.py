"""Fixtures for the venue tests: a hand-moved clock, the embedded exchange, a started venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from venue_testkit import FakeClock, make_venue, sim_credentials

from engine.venue.binance import BinanceVenue

SIM_SEED = 7


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    """A started embedded exchange with a frozen market and the demo account's HMAC key."""
    from engine.sim.runner import SimServer

    async with SimServer(port=0, seed=SIM_SEED, frozen_market=True) as server:
        yield server


@pytest.fixture
async def venue(sim: Any) -> AsyncIterator[BinanceVenue]:
    """A started venue on the sim's demo account."""
    started = make_venue(sim.url, sim_credentials(sim))
    await started.start()
    yield started
    await started.close()
