"""Time for the venue: an injectable clock and the jittered, bounded reconnect backoff."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds for timeouts and ages; aware UTC wall time for what we report."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


class Backoff:
    """Exponential delays from `base` up to `cap` seconds, each scaled by a factor drawn from
    [0.5, 1.0) with the injected RNG so that many clients never reconnect in lockstep."""

    def __init__(self, rng: random.Random, *, base: float, cap: float) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self._rng = rng
        self._base = base
        self._cap = cap
        self.attempt = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more attempt."""
        raw = min(self._cap, self._base * 2.0 ** min(self.attempt, 30))
        self.attempt += 1
        return raw * (0.5 + self._rng.random() / 2.0)

    def reset(self) -> None:
        self.attempt = 0
