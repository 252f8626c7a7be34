"""What the stream supervisors report: health changes and gaps the engine must reconcile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class StreamHealth(StrEnum):
    """CONNECTED: events flow. DEGRADED: the connection was lost or went silent and is being
    replaced; treat state as possibly stale. DOWN: several reconnects in a row failed (or never
    connected yet)."""

    CONNECTED = "CONNECTED"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"


@dataclass(frozen=True)
class StreamStatus:
    """A health change of one stream ("user" or "market"); `planned` when the connection is
    being replaced on purpose (its age, an announced shutdown), not because it failed."""

    stream: str
    health: StreamHealth
    reason: str
    at: datetime
    last_event_at: datetime | None
    planned: bool = False


@dataclass(frozen=True)
class StreamGap:
    """Events may have been lost between `since` (the last event received, or the moment the
    previous connection was made when it carried none) and `resumed_at` (the new subscription is
    live). Reconcile over REST: anything after `resumed_at` arrives on the stream."""

    stream: str
    since: datetime
    resumed_at: datetime
    reason: str
