"""Fixtures for the engine tests: the embedded exchange (frozen market) on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_testkit import running_sim

from engine.sim.runner import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server
