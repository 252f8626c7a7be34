"""The one request budget every REST call passes: weight, order counts, 429 pauses, 418 bans (R9).

Every REST response passes through `RateBudget.record` (the client subclass calls it from its
`_handle_response`, with that response's own headers, so concurrent requests never race on a shared
`client.response`). Before a request goes out, `acquire` decides:

- a 418 ban refuses everything until it ends (BANNED; sending would lengthen the ban);
- a 429 on weight pauses everything until Retry-After (PAUSED): every request is refused
  locally until then (no retry storm, no 418); reconciliation waits for the pause's end before
  it starts a run (see engine.service.scheduling);
- a 429 -1015 (unfilled order count) refuses new orders only; cancels still go;
- above `throttle_fraction` of the weight limit (read from X-MBX-USED-WEIGHT-1M, plus what was
  sent since), non-essential requests wait for the next minute window (THROTTLED), the cheapest
  first; essential ones (cancels, emergency work, order placement, which Binance charges no
  weight on success) use the reserve left above the fraction.

Binance counts weight in fixed one-minute windows of its own clock, so the window's end is
estimated from the server time; timeouts and countdowns run on the monotonic clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from engine.venue.errors import RateLimited, retry_after_seconds
from engine.venue.timing import Clock

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
ORDERS_10S_HEADER = "X-MBX-ORDER-COUNT-10S"
ORDERS_1D_HEADER = "X-MBX-ORDER-COUNT-1D"
TOO_MANY_ORDERS_CODE = -1015
WINDOW_MS = 60_000
DEFAULT_THROTTLE_FRACTION = 0.8


class Weight:
    """Binance's request weights of the calls the venue makes (rest-api.md), for estimates."""

    PING = 1
    TIME = 1
    EXCHANGE_INFO = 20
    ACCOUNT = 20
    ORDER = 1  # create and cancel: 0 when they succeed (since 2026-04-02), 1 otherwise
    CANCEL = 1
    GET_ORDER = 4
    OPEN_ORDERS_SYMBOL = 6
    OPEN_ORDERS_ALL = 80
    ALL_ORDERS = 20
    MY_TRADES = 20
    MY_TRADES_ORDER = 5
    ORDER_LIST = 4
    TICKER_SYMBOL = 2
    TICKER_ALL = 4
    SAPI = 1


class BudgetState(StrEnum):
    """OK; THROTTLED (non-essential requests wait for the next window); ORDERS_BLOCKED (429
    -1015: no new orders); PAUSED (429: nothing until Retry-After); BANNED (418: nothing)."""

    OK = "OK"
    THROTTLED = "THROTTLED"
    ORDERS_BLOCKED = "ORDERS_BLOCKED"
    PAUSED = "PAUSED"
    BANNED = "BANNED"


_ESSENTIAL: contextvars.ContextVar[bool] = contextvars.ContextVar("essential", default=False)


@contextlib.contextmanager
def essential_requests() -> Iterator[None]:
    """Every request made inside (and in tasks started inside) is essential: the emergency stop's
    queries must not wait behind the throttle."""
    token = _ESSENTIAL.set(True)
    try:
        yield
    finally:
        _ESSENTIAL.reset(token)


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
    state: BudgetState = BudgetState.OK
    throttle_fraction: float = DEFAULT_THROTTLE_FRACTION
    banned_until: datetime | None = None  # when the 418 ban ends (wall clock, for the desk)
    window_reset_in_s: float | None = None  # until the weight window restarts (estimated)
    waiting: int = 0  # requests waiting for the next window

    @property
    def weight_fraction(self) -> float | None:
        """Used weight as a fraction of the limit; None before the first response."""
        if self.used_weight_1m is None:
            return None
        return self.used_weight_1m / self.weight_limit_1m


class RateBudget:
    """Counters from the latest responses, the blocks that 429 and 418 impose, and the throttle.

    `server_time_ms` estimates the exchange's clock (the weight window follows it); without it
    the local wall clock is used."""

    def __init__(
        self,
        clock: Clock,
        *,
        weight_limit_1m: int = 6000,
        throttle_fraction: float = DEFAULT_THROTTLE_FRACTION,
        server_time_ms: Callable[[], int] | None = None,
    ) -> None:
        if not 0 < throttle_fraction <= 1:
            raise ValueError("throttle_fraction must be in (0, 1]")
        self._clock = clock
        self.weight_limit_1m = weight_limit_1m
        self.throttle_fraction = throttle_fraction
        self._server_time_ms = server_time_ms or (lambda: int(time.time() * 1000))
        self.used_weight_1m: int | None = None
        self.order_count_10s: int | None = None
        self.order_count_1d: int | None = None
        self._blocked_until = 0.0
        self._orders_blocked_until = 0.0
        self._banned_until = 0.0
        self._window_reset = 0.0  # monotonic time the current weight window ends
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.throttled_requests = 0  # how many requests had to wait (for tests and the desk)

    # -- what responses say --------------------------------------------------------------------

    def record(self, status: int, headers: Mapping[str, str], code: int | None = None) -> None:
        """Take in one response's headers; `code` is the Binance code of a 429/418 body."""
        weight = _int_header(headers, WEIGHT_HEADER)
        if weight is not None:
            self._roll()
            self.used_weight_1m = weight
            left_ms = WINDOW_MS - self._server_time_ms() % WINDOW_MS
            self._window_reset = self._clock.monotonic() + left_ms / 1000
        orders_10s = _int_header(headers, ORDERS_10S_HEADER)
        if orders_10s is not None:
            self.order_count_10s = orders_10s
        orders_1d = _int_header(headers, ORDERS_1D_HEADER)
        if orders_1d is not None:
            self.order_count_1d = orders_1d
        if status not in (418, 429):
            self._release()
            return
        until = self._clock.monotonic() + retry_after_seconds(headers, status)
        if status == 418:
            self._banned_until = max(self._banned_until, until)
        elif code == TOO_MANY_ORDERS_CODE:
            self._orders_blocked_until = max(self._orders_blocked_until, until)
        else:
            self._blocked_until = max(self._blocked_until, until)

    # -- before a request ----------------------------------------------------------------------

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

    async def acquire(
        self, weight: int, *, essential: bool = False, places_order: bool = False
    ) -> None:
        """Admit one request of `weight`: raise RateLimited during a ban or a pause (and for new
        orders during an order-count block); while above the throttle fraction, wait for the
        next window unless essential (waiters go the cheapest first)."""
        self.check(places_order=places_order)
        if essential or _ESSENTIAL.get() or (not self._waiters and self._fits(weight)):
            self._spend(weight)
            return
        self.throttled_requests += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (weight, next(self._order), future)
        heapq.heappush(self._waiters, entry)
        self._arm_timer()
        try:
            await future
        finally:
            if not future.done():
                future.cancel()
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
        self.check(places_order=places_order)  # a pause or ban may have come meanwhile

    def wait_s(self, weight: int) -> float:
        """How long a non-essential request of `weight` would wait now (0: it may go)."""
        now = self._clock.monotonic()
        blocked = max(self._banned_until, self._blocked_until) - now
        if blocked > 0:
            return blocked
        if self._fits(weight):
            return 0.0
        return max(0.0, self._window_reset - now)

    # -- reading -------------------------------------------------------------------------------

    @property
    def state(self) -> BudgetState:
        now = self._clock.monotonic()
        if self._banned_until > now:
            return BudgetState.BANNED
        if self._blocked_until > now:
            return BudgetState.PAUSED
        if self._orders_blocked_until > now:
            return BudgetState.ORDERS_BLOCKED
        if self._waiters or not self._fits(0):
            return BudgetState.THROTTLED
        return BudgetState.OK

    def snapshot(self) -> BudgetSnapshot:
        self._roll()
        now = self._clock.monotonic()
        banned_for = max(0.0, self._banned_until - now)
        return BudgetSnapshot(
            used_weight_1m=self.used_weight_1m,
            weight_limit_1m=self.weight_limit_1m,
            order_count_10s=self.order_count_10s,
            order_count_1d=self.order_count_1d,
            blocked_for_s=max(0.0, self._blocked_until - now),
            orders_blocked_for_s=max(0.0, self._orders_blocked_until - now),
            banned_for_s=banned_for,
            state=self.state,
            throttle_fraction=self.throttle_fraction,
            banned_until=self._clock.now() + timedelta(seconds=banned_for) if banned_for else None,
            window_reset_in_s=max(0.0, self._window_reset - now) if self._window_reset else None,
            waiting=len(self._waiters),
        )

    # -- internals -----------------------------------------------------------------------------

    def _roll(self) -> None:
        """A new weight window started: what was used is forgotten (Binance's counter is too)."""
        if self._window_reset and self._clock.monotonic() >= self._window_reset:
            self._window_reset = 0.0
            if self.used_weight_1m is not None:
                self.used_weight_1m = 0

    def _fits(self, weight: int) -> bool:
        self._roll()
        used = self.used_weight_1m or 0
        if used == 0:
            return True  # a fresh window takes any single request
        return used + weight <= self.throttle_fraction * self.weight_limit_1m

    def _spend(self, weight: int) -> None:
        """Count a request about to go out; its response's header corrects the estimate."""
        if self.used_weight_1m is not None:
            self.used_weight_1m += weight

    def _release(self) -> None:
        """Let waiting requests go, the cheapest first, as far as the budget takes them."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiters:
            weight, _, future = self._waiters[0]
            if future.done():
                heapq.heappop(self._waiters)
                continue
            if not self._fits(weight):
                break
            heapq.heappop(self._waiters)
            self._spend(weight)
            future.set_result(None)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if not self._waiters or self._timer is not None:
            return
        left = self._window_reset - self._clock.monotonic()
        # Woken just after the weight window ends (estimated), or in a second if that is unknown.
        delay = max(0.0, left) + 0.05 if self._window_reset else 1.0
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._release()


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None
