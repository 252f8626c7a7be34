"""Fixtures for the crash tests: a fresh embedded exchange (frozen market) per test, in this
process, so it outlives every engine process the test kills; `tests/engine/service` and
`tests/engine/faults` helpers are imported by name."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

_ENGINE_TESTS = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ENGINE_TESTS / "service"))
sys.path.insert(0, str(_ENGINE_TESTS / "faults"))

from control_testkit import short_directory  # noqa: E402
from engine_testkit import running_sim  # noqa: E402

from engine.sim.runner import SimServer  # noqa: E402


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    # A fresh exchange costs ~50 ms; the engine processes are the cost of these tests.
    async with running_sim() as server:
        yield server


@pytest.fixture
def base() -> Iterator[pathlib.Path]:
    """The engine processes' directory (data, logs): short, for the control socket's path."""
    with short_directory() as path:
        yield path
