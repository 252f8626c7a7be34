"""What the venue's REST calls return besides the core reports: orders with their fills, order
lists, the account, exchange info and the key's permissions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.core.reports import BalanceReport
from engine.core.rules import SymbolRules
from engine.core.wire import MalformedPayload, bool_field, optional_int, require_mapping
from engine.venue.parse import OrderResponse


@dataclass(frozen=True)
class OrderListResult:
    """An order list (OCO) as placed or cancelled, with each leg's report."""

    symbol: str
    order_list_id: int
    list_client_order_id: str
    contingency_type: str
    list_status_type: str
    list_order_status: str
    legs: tuple[OrderResponse, ...]


@dataclass(frozen=True)
class AccountSnapshot:
    """The account's balances (every asset the reply lists) and whether it may trade."""

    balances: tuple[BalanceReport, ...]
    can_trade: bool
    update_time: datetime


@dataclass(frozen=True)
class RateLimitRule:
    """One entry of exchangeInfo `rateLimits`."""

    kind: str  # REQUEST_WEIGHT, ORDERS, RAW_REQUESTS
    interval: str  # SECOND, MINUTE, DAY
    interval_num: int
    limit: int


@dataclass(frozen=True)
class ExchangeInfo:
    """Trading rules per symbol and the exchange's rate limits."""

    symbols: Mapping[str, SymbolRules]
    rate_limits: tuple[RateLimitRule, ...]
    server_time: datetime

    def weight_limit_per_minute(self) -> int | None:
        for rule in self.rate_limits:
            if rule.kind == "REQUEST_WEIGHT" and rule.interval == "MINUTE":
                return rule.limit // max(rule.interval_num, 1)
        return None


# apiRestrictions fields that must be false for a trading key (RELIABILITY.md S1).
DANGEROUS_PERMISSIONS = (
    "enableWithdrawals",
    "enableInternalTransfer",
    "permitsUniversalTransfer",
    "enableMargin",
    "enableFutures",
)


@dataclass(frozen=True)
class ApiRestrictions:
    """The key's permissions from /sapi/v1/account/apiRestrictions."""

    ip_restrict: bool
    enable_reading: bool
    enable_spot_and_margin_trading: bool
    enabled: Mapping[str, bool]  # every boolean field of the reply, by its Binance name
    trading_authority_expiration_time: int | None

    @property
    def dangerous(self) -> tuple[str, ...]:
        """Permissions a trading key must not have; a missing field counts as granted."""
        return tuple(name for name in DANGEROUS_PERMISSIONS if self.enabled.get(name, True))

    @classmethod
    def from_json(cls, raw: Any) -> ApiRestrictions:
        body = require_mapping(raw, "apiRestrictions")
        flags = {k: v for k, v in body.items() if isinstance(v, bool)}
        return cls(
            ip_restrict=bool_field(body, "ipRestrict", "apiRestrictions"),
            enable_reading=bool_field(body, "enableReading", "apiRestrictions"),
            enable_spot_and_margin_trading=bool_field(
                body, "enableSpotAndMarginTrading", "apiRestrictions"
            ),
            enabled=flags,
            trading_authority_expiration_time=optional_int(
                body, "tradingAuthorityExpirationTime", "apiRestrictions"
            ),
        )


def rate_limit_rules(raw: Any) -> tuple[RateLimitRule, ...]:
    """exchangeInfo `rateLimits` as rules; malformed entries raise MalformedPayload."""
    if not isinstance(raw, list):
        raise MalformedPayload("exchangeInfo.rateLimits: expected a list")
    rules = []
    for entry in raw:
        item = require_mapping(entry, "exchangeInfo.rateLimits[]")
        try:
            rules.append(
                RateLimitRule(
                    str(item["rateLimitType"]),
                    str(item["interval"]),
                    int(item["intervalNum"]),
                    int(item["limit"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"exchangeInfo.rateLimits[]: {exc}") from None
    return tuple(rules)
