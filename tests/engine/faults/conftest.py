"""Fixtures for the fault tests: the embedded exchange (frozen market) on a free port. This
folder's helpers (`invariants`, `unknown_testkit`, ...) and `tests/engine/service`'s
`engine_testkit` are imported by name."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import AsyncIterator

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "service"))

from engine_testkit import running_sim

from engine.sim.runner import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server
