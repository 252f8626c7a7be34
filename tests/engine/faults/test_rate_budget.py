"""The rate budget on its own, with hand-moved clocks: the throttle before the limit (E4), the
cheapest waiting request first, essential requests through the reserve, the states the desk
shows, countdowns on the monotonic clock (R10)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from engine.venue.budget import BudgetState, RateBudget, essential_requests
from engine.venue.errors import RateLimited


class HandClock:
    """Monotonic and wall time moved by hand; they can disagree (a wall-clock jump)."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def budget_at(clock: HandClock, left_in_window_ms: int, used: int) -> RateBudget:
    """A budget (limit 1000, throttle 0.8) whose last response said `used` weight, with the
    server's minute window ending `left_in_window_ms` from now."""
    server_ms = 60_000 * 1_000_000 - left_in_window_ms
    budget = RateBudget(clock, weight_limit_1m=1000, server_time_ms=lambda: server_ms)
    budget.record(200, {"X-MBX-USED-WEIGHT-1M": str(used)})
    return budget


async def test_below_the_fraction_requests_go_and_are_counted() -> None:
    clock = HandClock()
    budget = budget_at(clock, 30_000, used=700)
    await budget.acquire(80)
    assert budget.used_weight_1m == 780  # counted before its own header arrives
    assert budget.state is BudgetState.OK
    assert budget.wait_s(20) == 0.0
    assert budget.wait_s(21) == 30.0  # 780 + 21 > 800: until the window ends


async def test_above_the_fraction_non_essential_waits_for_the_window_essential_goes() -> None:
    clock = HandClock()
    budget = budget_at(clock, 100, used=790)  # the window ends in 0.1 s
    waiting = asyncio.create_task(budget.acquire(20))
    await asyncio.sleep(0)
    assert not waiting.done()
    snap = budget.snapshot()
    assert (snap.state, snap.waiting) == (BudgetState.THROTTLED, 1)
    assert snap.window_reset_in_s == pytest.approx(0.1)
    await budget.acquire(1, essential=True)  # a cancel uses the reserve at once
    with essential_requests():
        await budget.acquire(80)  # the emergency stop's queries too
    assert budget.used_weight_1m == 871
    clock.advance(0.1)  # the server's window restarts; the timer lets the waiter go
    await asyncio.wait_for(waiting, 2)
    assert budget.used_weight_1m == 20
    assert budget.throttled_requests == 1
    assert budget.state is BudgetState.OK


async def test_waiting_requests_go_the_cheapest_first() -> None:
    clock = HandClock()
    budget = budget_at(clock, 50, used=800)
    went: list[int] = []

    async def request(weight: int) -> None:
        await budget.acquire(weight)
        went.append(weight)

    tasks = [asyncio.create_task(request(w)) for w in (80, 20, 4, 20)]
    await asyncio.sleep(0)
    assert went == []
    clock.advance(0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert went == [4, 20, 20, 80]


async def test_a_fresh_window_admits_a_request_heavier_than_the_reserve() -> None:
    clock = HandClock()
    budget = RateBudget(clock, weight_limit_1m=50)  # a limit below one request's weight
    await budget.acquire(80)
    budget.record(200, {"X-MBX-USED-WEIGHT-1M": "0"})
    await budget.acquire(80)  # never deadlocked: a window with nothing used takes it


def test_429_pauses_418_bans_1015_blocks_orders_with_states() -> None:
    clock = HandClock()
    budget = RateBudget(clock)
    budget.record(429, {"Retry-After": "3"}, code=-1015)
    assert budget.state is BudgetState.ORDERS_BLOCKED
    budget.check(places_order=False)  # cancels and queries still go
    with pytest.raises(RateLimited):
        budget.check(places_order=True)
    budget.record(429, {"Retry-After": "2"}, code=-1003)
    assert budget.state is BudgetState.PAUSED
    assert budget.wait_s(1) == 2.0
    budget.record(418, {"Retry-After": "120"}, code=-1003)
    snap = budget.snapshot()
    assert snap.state is BudgetState.BANNED
    assert snap.banned_for_s == 120.0
    assert snap.banned_until == clock.wall + timedelta(seconds=120)
    clock.advance(120)
    assert budget.state is BudgetState.OK
    assert budget.snapshot().banned_until is None


def test_countdowns_run_on_the_monotonic_clock_whatever_the_wall_clock_does() -> None:
    clock = HandClock()
    budget = RateBudget(clock)
    budget.record(418, {"Retry-After": "60"})
    clock.wall -= timedelta(hours=1)  # NTP steps the wall clock back an hour
    clock.mono += 30
    assert budget.snapshot().banned_for_s == 30.0
    clock.wall += timedelta(hours=5)  # ... or forward
    assert budget.snapshot().banned_for_s == 30.0
    with pytest.raises(RateLimited) as caught:
        budget.check(places_order=False)
    assert caught.value.banned is True and caught.value.retry_after == 30.0


async def test_a_ban_arriving_while_waiting_refuses_the_waiter() -> None:
    clock = HandClock()
    budget = budget_at(clock, 50, used=800)
    waiting = asyncio.create_task(budget.acquire(20))
    await asyncio.sleep(0)
    budget.record(418, {"Retry-After": "60"})
    clock.advance(0.05)
    with pytest.raises(RateLimited) as caught:
        await asyncio.wait_for(waiting, 2)
    assert caught.value.banned is True
