"""What the engine knows about its links to the venue: REST outcomes and the two streams.

Every venue call the engine makes goes through `VenueLink.call`, which keeps `RestHealth` current
and tells its observers each outcome: the circuit breaker counts consecutive failures, the
maintenance monitor watches for -1016 and runs of 5xx, and `LinkAlarms` turns a repeated -1021
into a "clock skew" halt and a 429 or 418 from the exchange into an alarm for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from engine.service.port import StreamHandle
from engine.venue.errors import TIMESTAMP_CODE, NotSent, RateLimited, Rejected, Unknown, VenueError
from engine.venue.timing import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")


class LinkObserver(Protocol):
    """Told the outcome of every venue call made through the link."""

    def venue_ok(self) -> None: ...

    def venue_failed(self, error: VenueError) -> None: ...


@dataclass
class RestHealth:
    """The last REST success and the last failure that says the link is in trouble."""

    last_ok_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None

    @property
    def state(self) -> str:
        if self.last_ok_at is None and self.last_error_at is None:
            return "UNKNOWN"
        if self.last_error_at is not None and (
            self.last_ok_at is None or self.last_error_at > self.last_ok_at
        ):
            return "DEGRADED"
        return "OK"


class VenueLink:
    """Runs venue calls and keeps `RestHealth` current; a refusal by the exchange (Rejected,
    AuthError) still proves the link works, only transport trouble and limits degrade it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.rest = RestHealth()
        self.streams: dict[str, StreamHandle] = {}
        self.observers: list[LinkObserver] = []

    async def call(self, request: Awaitable[T]) -> T:
        try:
            result = await request
        except VenueError as error:
            if isinstance(error, Unknown | NotSent | RateLimited):
                self.rest.last_error_at = self._clock.now()
                self.rest.last_error = str(error)
            else:
                self.rest.last_ok_at = self._clock.now()
            self._tell(error)
            raise
        self.rest.last_ok_at = self._clock.now()
        self._tell(None)
        return result

    def _tell(self, error: VenueError | None) -> None:
        """Each observer hears the outcome (None: an answer)."""
        for observer in list(self.observers):
            try:
                if error is None:
                    observer.venue_ok()
                else:
                    observer.venue_failed(error)
            except Exception:  # an observer's bug must not turn a venue answer into a failure
                log.exception("a venue link observer failed")

    def stream_json(self, name: str) -> dict[str, Any]:
        """A stream's health for the snapshot, with the age of its last event in seconds."""
        handle = self.streams.get(name)
        if handle is None:
            return {"state": "DOWN", "reason": "not started", "last_event_age_s": None}
        status = handle.status
        last = handle.last_event_at
        age = None if last is None else round((self._clock.now() - last).total_seconds(), 3)
        return {"state": status.health.value, "reason": status.reason, "last_event_age_s": age}

    def rest_json(self) -> dict[str, Any]:
        rest = self.rest
        last = rest.last_ok_at
        age = None if last is None else round((self._clock.now() - last).total_seconds(), 3)
        return {"state": rest.state, "last_ok_age_s": age, "last_error": rest.last_error}


class LinkAlarms:
    """The link outcomes the operator must hear of at once.

    A -1021 reaching the engine has already been retried once after a fresh clock sync (the
    venue does that), so it repeated: new orders halt with "clock skew" (A11). A 429 or 418 sent
    by the exchange (not a local refusal while one runs) raises an alarm and asks for a
    reconciliation, which waits for the pause or the ban to end (E1); a 418 also warns that
    resting orders stay live on the exchange while nothing can be sent, and its reconciliation
    blocks new orders until it ran clean (E2)."""

    def __init__(
        self,
        *,
        halt: Callable[[str], None],
        alarm: Callable[[str, str], None],
        reconcile: Callable[[str, bool], object],
    ) -> None:
        self._halt = halt
        self._alarm = alarm
        self._reconcile = reconcile

    def venue_ok(self) -> None:
        return None

    def venue_failed(self, error: VenueError) -> None:
        if isinstance(error, Rejected) and error.code == TIMESTAMP_CODE:
            self._halt(
                "clock skew: the exchange refused a request's timestamp (-1021) again after a "
                "fresh clock sync; check the host's clock (NTP), then arm"
            )
        elif isinstance(error, RateLimited) and error.http_status == 418:
            self._alarm(
                "rate_limit",
                f"IP banned by the exchange for {error.retry_after:.0f} s (418): nothing can be "
                "sent until it ends; resting orders stay live on the exchange",
            )
            self._reconcile("after the IP ban (418)", True)
        elif isinstance(error, RateLimited) and error.http_status == 429:
            what = "new orders" if error.code == -1015 else "every request"
            self._alarm(
                "rate_limit",
                f"the exchange's rate limit was hit (429, code {error.code}): {what} paused for "
                f"{error.retry_after:.0f} s",
            )
            self._reconcile("after the rate-limit pause (429)", False)
