"""RateBudget: header capture and the blocks 429 and 418 impose."""

from __future__ import annotations

from typing import Any

import pytest

from engine.venue.budget import RateBudget
from engine.venue.errors import RateLimited


def test_headers_are_recorded_and_kept_until_the_next_value(clock: Any) -> None:
    budget = RateBudget(clock)
    budget.record(
        200,
        {"X-MBX-USED-WEIGHT-1M": "21", "X-MBX-ORDER-COUNT-10S": "3", "X-MBX-ORDER-COUNT-1D": "40"},
    )
    budget.record(200, {"X-MBX-USED-WEIGHT-1M": "25"})
    snap = budget.snapshot()
    assert (snap.used_weight_1m, snap.order_count_10s, snap.order_count_1d) == (25, 3, 40)
    assert snap.weight_fraction == 25 / 6000
    assert (snap.blocked_for_s, snap.orders_blocked_for_s, snap.banned_for_s) == (0, 0, 0)


def test_a_weight_429_blocks_every_request_until_retry_after(clock: Any) -> None:
    budget = RateBudget(clock)
    budget.record(429, {"Retry-After": "10"}, code=-1003)
    with pytest.raises(RateLimited) as caught:
        budget.check(places_order=False)
    assert (caught.value.retry_after, caught.value.banned, caught.value.http_status) == (
        10.0,
        False,
        None,
    )
    clock.advance(9.5)
    with pytest.raises(RateLimited):
        budget.check(places_order=False)
    clock.advance(0.5)
    budget.check(places_order=True)


def test_an_order_count_429_blocks_only_new_orders(clock: Any) -> None:
    budget = RateBudget(clock)
    budget.record(429, {"Retry-After": "5"}, code=-1015)
    budget.check(places_order=False)
    with pytest.raises(RateLimited) as caught:
        budget.check(places_order=True)
    assert caught.value.code == -1015
    assert budget.snapshot().orders_blocked_for_s == 5.0


def test_a_418_bans_everything(clock: Any) -> None:
    budget = RateBudget(clock)
    budget.record(418, {"Retry-After": "120"})
    clock.advance(60)
    with pytest.raises(RateLimited) as caught:
        budget.check(places_order=False)
    assert (caught.value.banned, caught.value.retry_after) == (True, 60.0)
