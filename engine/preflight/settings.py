"""The `preflight` settings section: clock bound, re-check period and accepted key risks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode


class KeyRisk(StrEnum):
    """A permission of the API key that LIVE refuses unless the operator accepts it by name."""

    WITHDRAWALS = "withdrawals"
    INTERNAL_TRANSFER = "internal_transfer"
    UNIVERSAL_TRANSFER = "universal_transfer"
    MARGIN = "margin"
    FUTURES = "futures"
    NO_IP_RESTRICTION = "no_ip_restriction"


# Binance's apiRestrictions flag behind each risk (ipRestrict is the reverse: false is the risk).
FLAG_OF_RISK: dict[KeyRisk, str] = {
    KeyRisk.WITHDRAWALS: "enableWithdrawals",
    KeyRisk.INTERNAL_TRANSFER: "enableInternalTransfer",
    KeyRisk.UNIVERSAL_TRANSFER: "permitsUniversalTransfer",
    KeyRisk.MARGIN: "enableMargin",
    KeyRisk.FUTURES: "enableFutures",
    KeyRisk.NO_IP_RESTRICTION: "ipRestrict",
}


def _risk_list(value: Any) -> Any:
    """A JSON list or a comma-separated string (handy in an env var) of KeyRisk names."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip().lower() for part in text.split(",") if part.strip()]
    return value


class PreflightSettings(BaseModel):
    """SPOTDESK_PREFLIGHT__*: how strict the preflight checks are and how often they re-run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_clock_offset_ms: int = Field(
        1000,
        gt=0,
        le=60_000,
        description="Largest difference between this machine's clock and the exchange's, in "
        "milliseconds; beyond it TESTNET and LIVE refuse to trade (keep NTP running).",
    )
    interval_s: float = Field(
        300.0,
        ge=0,
        description="The running engine re-runs every check this often and halts trading when "
        "one fails (0: only at start and on arm). Arm always re-runs the failing ones first.",
    )
    user_stream_timeout_s: float = Field(
        10.0,
        gt=0,
        description="How long `spotdesk check` waits for the user data stream to subscribe.",
    )
    accept_key_risks: Annotated[frozenset[KeyRisk], NoDecode] = Field(
        frozenset(),
        description="Key permissions LIVE refuses unless named here (comma-separated): "
        "withdrawals, internal_transfer, universal_transfer, margin, futures, "
        "no_ip_restriction. Each accepted risk is shown on the desk and by `spotdesk check`.",
    )

    _split = field_validator("accept_key_risks", mode="before")(_risk_list)
