"""The `protection` settings section: automatic SL/TP on entry fills and trailing-stop pacing."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field


class ProtectionSettings(BaseModel):
    """How the engine protects positions; plugged into `Settings` as `protection`."""

    auto_enabled: bool = Field(
        False, description="Arm SL/TP from the percentages below whenever a BUY entry fills."
    )
    auto_stop_loss_pct: Decimal | None = Field(
        None, gt=0, lt=100, description="Stop-loss distance below the entry price, in percent."
    )
    auto_take_profit_pct: Decimal | None = Field(
        None, gt=0, description="Take-profit distance above the entry price, in percent."
    )
    stop_limit_offset_pct: Decimal = Field(
        Decimal("0.5"),
        ge=0,
        lt=100,
        description="A stop-limit sells at most this far below its trigger, so it still fills.",
    )
    trailing_step_pct: Decimal = Field(
        Decimal("0.5"),
        gt=0,
        description="An engine-managed trailing stop moves only when it gains at least this much.",
    )
    trailing_min_interval_s: float = Field(
        5.0, ge=0, description="At most one move of an engine-managed trailing stop this often."
    )
