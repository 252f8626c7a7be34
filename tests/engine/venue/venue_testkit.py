"""Helpers for the venue tests (imported by name: this folder is on sys.path under pytest)."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

# python-binance 1.0.37 imports websockets' legacy API, deprecated since websockets 14; pytest
# turns warnings into errors, so the import happens once here with deprecations muted.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import binance  # noqa: F401

from engine.config import Mode
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.endpoints import Credentials, endpoints_for
from engine.venue.timing import SystemClock

WAIT_S = 10.0


class FakeClock:
    """Monotonic seconds and UTC wall time that advance together, by hand."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._start = start
        self._mono = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._mono - 1000.0)

    def advance(self, seconds: float) -> None:
        self._mono += seconds


def sim_credentials(sim: Any) -> Credentials:
    """The sim's demo account key."""
    return Credentials(SecretStr(sim.api_key), api_secret=SecretStr(sim.api_secret))


def make_venue(sim_url: str, credentials: Credentials, **options: Any) -> BinanceVenue:
    """A venue on the sim with short timeouts (not started)."""
    settings = {"request_timeout_s": 2.0, "close_timeout_s": 2.0, **options}
    return BinanceVenue(
        endpoints_for(Mode.SIM, sim_url),
        credentials,
        clock=SystemClock(),
        options=VenueOptions(**settings),
    )


async def next_item(queue: asyncio.Queue[Any]) -> Any:
    """The next item a callback put on `queue`, waiting at most WAIT_S."""
    return await asyncio.wait_for(queue.get(), WAIT_S)
