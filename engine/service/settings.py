"""The engine service's own settings sections (SPOTDESK_BREAKER__*, SPOTDESK_HOUSEKEEPING__*).

Kept apart from the parts they configure so that reading the configuration (every `spotdesk`
start) does not import the venue and python-binance.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BreakerSettings(BaseModel):
    """SPOTDESK_BREAKER__*: when venue failures stop trading, and how trading comes back."""

    model_config = ConfigDict(frozen=True)

    max_consecutive_errors: int = Field(
        5, ge=0, description="Venue failures in a row that halt trading (0: never)."
    )
    auto_close: bool = Field(
        False,
        description="Re-arm by itself after the cooldown once the exchange answers again; "
        "false: only the operator's arm closes the breaker.",
    )
    cooldown_s: float = Field(
        60.0, gt=0, description="With auto_close, how long the breaker stays open before a probe."
    )


class HousekeepingSettings(BaseModel):
    """SPOTDESK_HOUSEKEEPING__*: what the engine tidies up on its own."""

    model_config = ConfigDict(frozen=True)

    cancel_stale_after_s: float | None = Field(
        None,
        gt=0,
        description="Cancel the desk's own LIMIT/LIMIT_MAKER orders open longer than this many "
        "seconds (unset: never; external, stop and protection orders are never cancelled).",
    )
    check_every_s: float = Field(30.0, gt=0, description="How often stale orders are looked for.")
