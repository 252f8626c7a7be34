"""The request-weight and order-count budget, read from Binance's response headers (R9).

Every REST response passes through `RateBudget.record` (the client subclass calls it from its
`_handle_response`, with that response's own headers, so concurrent requests never race on a shared
`client.response`). A 429 blocks further requests until Retry-After has passed and a 418 is a ban:
the venue refuses to send anything while either runs, instead of earning a longer ban.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.venue.errors import RateLimited, retry_after_seconds
from engine.venue.timing import Clock

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
ORDERS_10S_HEADER = "X-MBX-ORDER-COUNT-10S"
ORDERS_1D_HEADER = "X-MBX-ORDER-COUNT-1D"
TOO_MANY_ORDERS_CODE = -1015


@dataclass(frozen=True)
class BudgetSnapshot:
    """What the last responses said about our usage, and any block still running."""

    used_weight_1m: int | None
    weight_limit_1m: int
    order_count_10s: int | None
    order_count_1d: int | None
    blocked_for_s: float  # all requests refused locally for this long (429 on weight)
    orders_blocked_for_s: float  # new orders refused locally for this long (429 -1015)
    banned_for_s: float  # 418: nothing may be sent for this long

    @property
    def weight_fraction(self) -> float | None:
        """Used weight as a fraction of the limit; None before the first response."""
        if self.used_weight_1m is None:
            return None
        return self.used_weight_1m / self.weight_limit_1m


class RateBudget:
    """Counters from the latest responses plus the blocks that 429 and 418 impose."""

    def __init__(self, clock: Clock, *, weight_limit_1m: int = 6000) -> None:
        self._clock = clock
        self.weight_limit_1m = weight_limit_1m
        self.used_weight_1m: int | None = None
        self.order_count_10s: int | None = None
        self.order_count_1d: int | None = None
        self._blocked_until = 0.0
        self._orders_blocked_until = 0.0
        self._banned_until = 0.0

    def record(self, status: int, headers: Mapping[str, str], code: int | None = None) -> None:
        """Take in one response's headers; `code` is the Binance code of a 429/418 body."""
        weight = _int_header(headers, WEIGHT_HEADER)
        if weight is not None:
            self.used_weight_1m = weight
        orders_10s = _int_header(headers, ORDERS_10S_HEADER)
        if orders_10s is not None:
            self.order_count_10s = orders_10s
        orders_1d = _int_header(headers, ORDERS_1D_HEADER)
        if orders_1d is not None:
            self.order_count_1d = orders_1d
        if status not in (418, 429):
            return
        until = self._clock.monotonic() + retry_after_seconds(headers, status)
        if status == 418:
            self._banned_until = max(self._banned_until, until)
        elif code == TOO_MANY_ORDERS_CODE:
            self._orders_blocked_until = max(self._orders_blocked_until, until)
        else:
            self._blocked_until = max(self._blocked_until, until)

    def check(self, *, places_order: bool) -> None:
        """Raise RateLimited (nothing sent) while a ban or a 429 block is running."""
        now = self._clock.monotonic()
        if self._banned_until > now:
            raise RateLimited(
                "IP banned (418); refusing to send until the ban ends",
                retry_after=self._banned_until - now,
                banned=True,
            )
        if self._blocked_until > now:
            raise RateLimited(
                "request weight limit hit (429); refusing to send until Retry-After",
                retry_after=self._blocked_until - now,
                banned=False,
            )
        if places_order and self._orders_blocked_until > now:
            raise RateLimited(
                "order count limit hit (429 -1015); no new orders until Retry-After",
                retry_after=self._orders_blocked_until - now,
                banned=False,
                code=TOO_MANY_ORDERS_CODE,
            )

    def snapshot(self) -> BudgetSnapshot:
        now = self._clock.monotonic()
        return BudgetSnapshot(
            used_weight_1m=self.used_weight_1m,
            weight_limit_1m=self.weight_limit_1m,
            order_count_10s=self.order_count_10s,
            order_count_1d=self.order_count_1d,
            blocked_for_s=max(0.0, self._blocked_until - now),
            orders_blocked_for_s=max(0.0, self._orders_blocked_until - now),
            banned_for_s=max(0.0, self._banned_until - now),
        )


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None
