"""The operator's risk limits: one pydantic section of the settings, `SPOTDESK_RISK__*`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

# Lists arrive from env vars as text, parsed by `_symbol_list` (JSON or comma-separated).
Symbols = Annotated[list[str], NoDecode]


def _symbol_list(value: Any) -> Any:
    """A JSON list, a comma-separated string (handy in an env var) or a list; upper-cased."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    if isinstance(value, list | tuple | set | frozenset):
        return sorted({str(item).strip().upper() for item in value if str(item).strip()})
    return value  # anything else fails the list validation with pydantic's own message


class RiskLimits(BaseModel):
    """Pre-trade limits, in the quote asset; the defaults suit a demo account of ~10,000 USDT.

    Unknown keys are refused: a misspelt limit must fail loudly, never be ignored.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    quote_asset: str = Field(
        "USDT",
        description="The asset every amount below is counted in. Orders are only placed on "
        "symbols quoted in it; holdings quoted otherwise are converted at the mark of "
        "<asset><quote_asset>.",
    )
    daily_loss_limit: Decimal = Field(
        Decimal(300),
        gt=0,
        description="Largest loss allowed in one trading day: losses realized today (net of "
        "fees) plus the unrealized loss of open positions, less gains realized today. Reaching "
        "it refuses every order that could add to a position.",
    )
    warning_ratio: Decimal = Field(
        Decimal("0.8"),
        gt=0,
        le=1,
        description="Share of a limit at which the desk warns (0.8 = warning at 80%).",
    )
    max_trades_per_day: int = Field(
        50,
        ge=0,
        description="Orders that may open or add to a position (buys) per trading day. Sells "
        "are counted separately and never limited by this.",
    )
    max_open_positions: int = Field(
        5,
        ge=0,
        description="Symbols held (worth at least dust_value) or with a resting buy order.",
    )
    min_order_value: Decimal = Field(
        Decimal(10), ge=0, description="Smallest buy order, by its value in the quote asset."
    )
    max_order_value: Decimal = Field(
        Decimal(2000), gt=0, description="Largest buy order, by its value in the quote asset."
    )
    min_position_value: Decimal = Field(
        Decimal(10),
        ge=0,
        description="Smallest position a buy may leave (held, resting buys and the order).",
    )
    max_position_value: Decimal = Field(
        Decimal(2500),
        gt=0,
        description="Largest position a buy may leave (held, resting buys and the order).",
    )
    max_position_share: Decimal = Field(
        Decimal("0.25"),
        gt=0,
        le=1,
        description="Largest single position as a share of equity (0.25 = 25%).",
    )
    max_total_exposure: Decimal = Field(
        Decimal(6000),
        gt=0,
        description="Largest total exposure: every position at its mark plus every resting "
        "buy order, in the quote asset.",
    )
    max_long_exposure_share: Decimal = Field(
        Decimal("0.7"),
        gt=0,
        le=1,
        description="Largest aggregate long exposure (positions and resting buys) as a share "
        "of equity. Spot is long-only: a sell may never sell more than the position holds.",
    )
    allowed_symbols: Symbols = Field(
        default_factory=list,
        description="Symbols buys may be placed on (comma-separated or a JSON list); empty "
        "allows every symbol. Selling what is held is always allowed.",
    )
    denied_symbols: Symbols = Field(
        default_factory=list,
        description="Symbols no buy may be placed on; wins over allowed_symbols.",
    )
    soft_notional_limit: Decimal = Field(
        Decimal(1000),
        gt=0,
        description="Orders worth more than this need an explicit confirmation.",
    )
    max_orders_per_minute: int = Field(
        10, ge=1, description="Orders of any kind sent in any 60-second window."
    )
    risk_per_trade: Decimal = Field(
        Decimal("0.01"),
        gt=0,
        le=1,
        description="Share of equity to risk between entry and stop when sizing (0.01 = 1%).",
    )
    trading_day_rollover_hour: int = Field(
        0,
        ge=0,
        le=23,
        description="UTC hour at which the trading day and its counters roll over.",
    )
    dust_value: Decimal = Field(
        Decimal(1),
        ge=0,
        description="Holdings worth less than this are dust: they do not count as open positions.",
    )

    @field_validator("allowed_symbols", "denied_symbols", mode="before")
    @classmethod
    def _symbols(cls, value: Any) -> Any:
        return _symbol_list(value)

    @field_validator("quote_asset")
    @classmethod
    def _upper(cls, value: str) -> str:
        value = value.strip().upper()
        if not value:
            raise ValueError("quote_asset must not be empty")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_order_value > self.max_order_value:
            raise ValueError("min_order_value is above max_order_value")
        if self.min_position_value > self.max_position_value:
            raise ValueError("min_position_value is above max_position_value")
        return self

    def symbol_allowed(self, symbol: str) -> bool:
        """Whether buys may be placed on `symbol` (the deny list wins)."""
        if symbol in self.denied_symbols:
            return False
        return not self.allowed_symbols or symbol in self.allowed_symbols
