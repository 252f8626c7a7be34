"""Fixtures for the pure core tests (helpers and the book they set up: simcore_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from simcore_helpers import SEED, Env, raises, small_book_config

from engine.sim.core.clock import ManualClock
from engine.sim.core.errors import SimError
from engine.sim.core.exchange import Exchange


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def env(clock: ManualClock) -> Env:
    return Env(clock, Exchange(clock=clock, seed=SEED, config=small_book_config()))


@pytest.fixture
def expect_error() -> Callable[[int, str, Callable[[], Any]], SimError]:
    return raises
