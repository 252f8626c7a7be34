"""What the engine knows about its links to the venue: REST outcomes and the two streams."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from engine.service.port import StreamHandle
from engine.venue.errors import NotSent, RateLimited, Unknown, VenueError
from engine.venue.timing import Clock

T = TypeVar("T")


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

    async def call(self, request: Awaitable[T]) -> T:
        try:
            result = await request
        except VenueError as error:
            if isinstance(error, Unknown | NotSent | RateLimited):
                self.rest.last_error_at = self._clock.now()
                self.rest.last_error = str(error)
            else:
                self.rest.last_ok_at = self._clock.now()
            raise
        self.rest.last_ok_at = self._clock.now()
        return result

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
