"""Binance's rate limits: request weight and raw requests per IP, unfilled orders per account.

Counters use fixed intervals aligned to the epoch, as Binance does: a 1-minute window starts
every minute, a 10-second window at :00, :10, ..., a day at 00:00 UTC. Over the weight limit a
request gets 429 (-1003) with Retry-After; an IP that keeps sending while limited is banned
(418, -1003) for a time that doubles with each ban, from `ban_ms` up to three days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from engine.sim.core.clock import Clock
from engine.sim.core.errors import SimError

MINUTE_MS = 60_000
DAY_MS = 86_400_000
MAX_BAN_MS = 3 * DAY_MS


@dataclass(frozen=True)
class LimitConfig:
    """The limits the server enforces; the admin API and tests change them."""

    request_weight_per_minute: int = 6000
    raw_requests_per_5_minutes: int = 300_000
    orders_per_10_seconds: int = 100
    orders_per_day: int = 200_000
    ban_after_429s: int = 5  # 429 answers in one limited window before the IP is banned
    ban_ms: int = 120_000  # the first ban; each further ban doubles it

    def updated(self, changes: dict[str, Any]) -> LimitConfig:
        """A copy with `changes` applied; unknown names or non-positive values raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(unknown)}")
        for name, value in changes.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        return replace(self, **changes)

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class FixedWindow:
    """A counter that restarts at every multiple of `length_ms` since the epoch."""

    def __init__(self, length_ms: int) -> None:
        self.length_ms = length_ms
        self._start = -1
        self._count = 0

    def _roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.length_ms
        if start != self._start:
            self._start = start
            self._count = 0

    def count(self, now_ms: int) -> int:
        self._roll(now_ms)
        return self._count

    def add(self, now_ms: int, amount: int) -> int:
        self._roll(now_ms)
        self._count = max(0, self._count + amount)
        return self._count

    def reset_in_ms(self, now_ms: int) -> int:
        return self.length_ms - now_ms % self.length_ms


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))


@dataclass
class _IpState:
    weight: FixedWindow
    raw: FixedWindow
    strikes: int = 0  # 429s answered in the current weight window
    strike_window: int = -1
    banned_until_ms: int = 0
    bans: int = 0


@dataclass
class _AccountState:
    ten_seconds: FixedWindow
    day: FixedWindow


def limit_json(limit_type: str, interval: str, num: int, limit: int) -> dict[str, Any]:
    return {"rateLimitType": limit_type, "interval": interval, "intervalNum": num, "limit": limit}


class RateLimiter:
    """Counts weight, raw requests and orders on an injected clock; raises Binance's answers."""

    def __init__(self, clock: Clock, config: LimitConfig | None = None) -> None:
        self._clock = clock
        self.config = config or LimitConfig()
        self._ips: dict[str, _IpState] = {}
        self._accounts: dict[int, _AccountState] = {}

    def reset(self) -> None:
        """Forget every counter and ban."""
        self._ips.clear()
        self._accounts.clear()

    def _ip(self, ip: str) -> _IpState:
        state = self._ips.get(ip)
        if state is None:
            state = _IpState(FixedWindow(MINUTE_MS), FixedWindow(5 * MINUTE_MS))
            self._ips[ip] = state
        return state

    def _account(self, account_id: int) -> _AccountState:
        state = self._accounts.get(account_id)
        if state is None:
            state = _AccountState(FixedWindow(10_000), FixedWindow(DAY_MS))
            self._accounts[account_id] = state
        return state

    # request weight -------------------------------------------------------------------------

    def admit(self, ip: str, weight: int) -> None:
        """Charge a request to its IP; raise 418 if banned, 429 (or a new 418) if over a limit."""
        now = self._clock.now_ms()
        state = self._ip(ip)
        if state.banned_until_ms > now:
            raise banned_error(state.banned_until_ms, now)
        raw = state.raw.add(now, 1)
        if raw > self.config.raw_requests_per_5_minutes:
            limit = self.config.raw_requests_per_5_minutes
            raise SimError(
                -1003,
                f"Too many requests; current limit is {limit} requests per 5 MINUTE.",
                429,
                headers={"Retry-After": str(_seconds(state.raw.reset_in_ms(now)))},
            )
        used = state.weight.add(now, weight)
        if used <= self.config.request_weight_per_minute:
            return
        window = now - now % MINUTE_MS
        if state.strike_window != window:
            state.strike_window = window
            state.strikes = 0
        state.strikes += 1
        if state.strikes > self.config.ban_after_429s:
            duration = min(MAX_BAN_MS, self.config.ban_ms * 2**state.bans)
            state.bans += 1
            state.banned_until_ms = now + duration
            raise banned_error(state.banned_until_ms, now)
        raise self.weight_exceeded(_seconds(state.weight.reset_in_ms(now)))

    def refund(self, ip: str, weight: int) -> None:
        """Give back weight Binance does not charge (successful order and cancel requests)."""
        self._ip(ip).weight.add(self._clock.now_ms(), -weight)

    def used_weight(self, ip: str) -> int:
        return self._ip(ip).weight.count(self._clock.now_ms())

    def ban(self, ip: str, duration_ms: int) -> SimError:
        """Ban an IP now (the 418 fault); returns the answer to give it."""
        now = self._clock.now_ms()
        state = self._ip(ip)
        state.banned_until_ms = now + duration_ms
        return banned_error(state.banned_until_ms, now)

    def weight_exceeded(self, retry_after_s: int) -> SimError:
        """The 429 answer to a request over the weight limit."""
        limit = self.config.request_weight_per_minute
        return SimError(
            -1003,
            f"Too much request weight used; current limit is {limit} request weight per 1 "
            "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
            429,
            headers={"Retry-After": str(retry_after_s)},
        )

    # unfilled order count -------------------------------------------------------------------

    def check_orders(self, account_id: int, new_orders: int = 1) -> None:
        """Raise 429 (-1015) if placing `new_orders` more would break an order-count limit."""
        now = self._clock.now_ms()
        state = self._account(account_id)
        for window, limit, label in (
            (state.ten_seconds, self.config.orders_per_10_seconds, "10 SECOND"),
            (state.day, self.config.orders_per_day, "1 DAY"),
        ):
            if window.count(now) + new_orders > limit:
                raise SimError(
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {label}.",
                    429,
                    headers={"Retry-After": str(_seconds(window.reset_in_ms(now)))},
                )

    def add_orders(self, account_id: int, new_orders: int) -> None:
        now = self._clock.now_ms()
        state = self._account(account_id)
        state.ten_seconds.add(now, new_orders)
        state.day.add(now, new_orders)

    def order_counts(self, account_id: int) -> tuple[int, int]:
        """(orders in the current 10-second window, orders today)."""
        now = self._clock.now_ms()
        state = self._account(account_id)
        return state.ten_seconds.count(now), state.day.count(now)

    # the JSON shapes -----------------------------------------------------------------------

    def exchange_rate_limits(self) -> list[dict[str, Any]]:
        """`rateLimits` of exchangeInfo."""
        c = self.config
        return [
            limit_json("REQUEST_WEIGHT", "MINUTE", 1, c.request_weight_per_minute),
            limit_json("ORDERS", "SECOND", 10, c.orders_per_10_seconds),
            limit_json("ORDERS", "DAY", 1, c.orders_per_day),
            limit_json("RAW_REQUESTS", "MINUTE", 5, c.raw_requests_per_5_minutes),
        ]

    def order_rate_limits(self, account_id: int) -> list[dict[str, Any]]:
        """GET /api/v3/rateLimit/order: the ORDERS limits with this account's counts."""
        ten_seconds, day = self.order_counts(account_id)
        c = self.config
        return [
            {**limit_json("ORDERS", "SECOND", 10, c.orders_per_10_seconds), "count": ten_seconds},
            {**limit_json("ORDERS", "DAY", 1, c.orders_per_day), "count": day},
        ]

    def ws_rate_limits(self, ip: str, account_id: int | None) -> list[dict[str, Any]]:
        """`rateLimits` of a WebSocket API response."""
        weight = limit_json("REQUEST_WEIGHT", "MINUTE", 1, self.config.request_weight_per_minute)
        found = [{**weight, "count": self.used_weight(ip)}]
        if account_id is not None:
            found = [*self.order_rate_limits(account_id), *found]
        return found


def banned_error(until_ms: int, now_ms: int) -> SimError:
    """The 418 answer for an IP banned until `until_ms`."""
    return SimError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        418,
        headers={"Retry-After": str(_seconds(until_ms - now_ms))},
    )
