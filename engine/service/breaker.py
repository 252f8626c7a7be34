"""The circuit breaker: after N venue failures in a row, trading goes HALTED with the reason.

It counts the failures that say the link or the exchange is in trouble (timeouts, 5xx, lost
connections, unreadable replies: `Unknown` and `NotSent`), never the exchange's definite answers
(a rejected order proves the link works) nor rate limits (the budget handles those), and not
while the maintenance monitor already explains them. Any answer resets the count.

Open, it halts new orders (cancels and reconciliation go on, R12). It closes when the operator
arms, or, with `auto_close`, by itself: after `cooldown_s` it is HALF_OPEN and asks for a probe
(a reconciliation); the first answer closes it and re-arms trading, but only if trading is still
halted for the breaker's reason and the operator has not halted since (an operator's halt
stands); a failure opens it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from engine.service.settings import BreakerSettings
from engine.service.tasks import TaskKeeper
from engine.venue.errors import NotSent, RateLimited, Unknown, VenueError
from engine.venue.timing import Clock

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    """A link observer (see `engine.service.health.VenueLink`); see the module docstring.

    `halt(reason)` and `release(reason) -> bool` move the trading state (release re-arms only
    while trading is HALTED with exactly that reason); `probe()` asks for a reconciliation;
    `explained()` is True while something else (maintenance) accounts for the failures."""

    def __init__(
        self,
        settings: BreakerSettings,
        *,
        clock: Clock,
        tasks: TaskKeeper,
        halt: Callable[[str], None],
        release: Callable[[str], bool],
        probe: Callable[[], object],
        explained: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._tasks = tasks
        self._halt = halt
        self._release = release
        self._probe = probe
        self._explained = explained
        self.state = BreakerState.CLOSED
        self.consecutive_errors = 0
        self.last_error: str | None = None
        self.reason: str | None = None
        self.opened_at: datetime | None = None
        self._opened_mono = 0.0
        self._held = False  # the operator halted too: only their arm closes the breaker
        self.trips = 0

    # -- link observer -------------------------------------------------------------------------

    def venue_ok(self) -> None:
        self.consecutive_errors = 0
        if self.state is BreakerState.HALF_OPEN:
            self._close_by_probe()

    def venue_failed(self, error: VenueError) -> None:
        if isinstance(error, RateLimited):
            return  # the budget's business (and a local refusal says nothing of the link)
        if not isinstance(error, Unknown | NotSent):
            self.venue_ok()  # a definite answer: the exchange is there
            return
        if self._explained():
            return
        self.consecutive_errors += 1
        self.last_error = str(error)
        threshold = self.settings.max_consecutive_errors
        if self.state is BreakerState.HALF_OPEN:
            self._open(f"circuit breaker: the probe after the cooldown failed ({error})")
        elif self.state is BreakerState.CLOSED and 0 < threshold <= self.consecutive_errors:
            self._open(
                f"circuit breaker: {self.consecutive_errors} venue errors in a row (last: {error})"
            )

    # -- the operator --------------------------------------------------------------------------

    def reset(self) -> None:
        """The operator armed: the breaker closes and counts from zero."""
        self.state = BreakerState.CLOSED
        self.consecutive_errors = 0
        self.reason = None
        self.opened_at = None
        self._held = False

    def operator_halted(self) -> None:
        """The operator halted while the breaker is open: it no longer re-arms by itself."""
        if self.state is not BreakerState.CLOSED:
            self._held = True

    def to_json(self) -> dict[str, Any]:
        """The breaker for the snapshot (`circuit_breaker`)."""
        closes_in = None
        if self.state is BreakerState.OPEN and self.settings.auto_close and not self._held:
            elapsed = self._clock.monotonic() - self._opened_mono
            closes_in = round(max(0.0, self.settings.cooldown_s - elapsed), 3)
        return {
            "state": self.state.value,
            "consecutive_errors": self.consecutive_errors,
            "threshold": self.settings.max_consecutive_errors,
            "auto_close": self.settings.auto_close,
            "cooldown_s": self.settings.cooldown_s,
            "reason": self.reason,
            "opened_at": None if self.opened_at is None else self.opened_at.isoformat(),
            "probe_in_s": closes_in,
            "last_error": self.last_error,
            "trips": self.trips,
        }

    # -- internals -----------------------------------------------------------------------------

    def _open(self, reason: str) -> None:
        first = self.state is BreakerState.CLOSED
        self.state = BreakerState.OPEN
        self.opened_at = self._clock.now()
        self._opened_mono = self._clock.monotonic()
        if first:
            self.trips += 1
            self.reason = reason
            log.error("%s", reason)
            self._halt(reason)
        if self.settings.auto_close:
            self._tasks.spawn(self._cool_down(self._opened_mono), "breaker-cooldown")

    async def _cool_down(self, opened_mono: float) -> None:
        await asyncio.sleep(self.settings.cooldown_s)
        if self.state is BreakerState.OPEN and self._opened_mono == opened_mono and not self._held:
            self.state = BreakerState.HALF_OPEN
            self._probe()

    def _close_by_probe(self) -> None:
        reason = self.reason
        self.reset()
        if reason is not None and self._release(reason):
            log.warning("circuit breaker closed after the cooldown: the exchange answers again")
