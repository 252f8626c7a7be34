"""Request weight, raw requests, order counts and bans on a manual clock."""

from __future__ import annotations

import pytest

from engine.sim.core.clock import ManualClock
from engine.sim.core.errors import SimError
from engine.sim.server.ratelimit import LimitConfig, RateLimiter

START = 1_767_225_600_000  # a whole minute, day and 10 s boundary


def limiter(**changes: int) -> tuple[ManualClock, RateLimiter]:
    clock = ManualClock(START)
    return clock, RateLimiter(clock, LimitConfig().updated(changes))


def test_weight_is_counted_per_ip_and_minute() -> None:
    clock, rl = limiter(request_weight_per_minute=10)
    rl.admit("a", 4)
    rl.admit("a", 6)
    rl.admit("b", 3)
    assert (rl.used_weight("a"), rl.used_weight("b")) == (10, 3)
    clock.advance(60_000)
    assert rl.used_weight("a") == 0


def test_over_the_weight_limit_is_429_with_retry_after_to_the_minute_end() -> None:
    clock, rl = limiter(request_weight_per_minute=10)
    rl.admit("a", 10)
    clock.advance(15_500)
    with pytest.raises(SimError) as caught:
        rl.admit("a", 1)
    error = caught.value
    assert (error.code, error.http_status) == (-1003, 429)
    assert error.msg == (
        "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    assert error.headers == {"Retry-After": "45"}


def test_repeated_429s_escalate_to_a_ban_that_doubles() -> None:
    clock, rl = limiter(request_weight_per_minute=1, ban_after_429s=2, ban_ms=120_000)
    rl.admit("a", 1)
    for _ in range(2):
        with pytest.raises(SimError) as caught:
            rl.admit("a", 1)
        assert caught.value.http_status == 429
    with pytest.raises(SimError) as caught:
        rl.admit("a", 1)
    banned_until = START + 120_000
    assert (caught.value.code, caught.value.http_status) == (-1003, 418)
    assert caught.value.msg == (
        f"Way too much request weight used; IP banned until {banned_until}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )
    assert caught.value.headers == {"Retry-After": "120"}
    clock.advance(119_001)
    with pytest.raises(SimError) as caught:
        rl.admit("a", 1)
    assert (caught.value.http_status, caught.value.headers) == (418, {"Retry-After": "1"})
    clock.advance(1_000)  # the ban is over, a new minute has begun
    rl.admit("a", 1)
    for _ in range(2):
        with pytest.raises(SimError):
            rl.admit("a", 1)
    with pytest.raises(SimError) as caught:
        rl.admit("a", 1)
    assert caught.value.headers == {"Retry-After": "240"}


def test_refund_gives_weight_back() -> None:
    _, rl = limiter()
    rl.admit("a", 3)
    rl.refund("a", 1)
    assert rl.used_weight("a") == 2


def test_raw_requests_are_limited_per_five_minutes() -> None:
    clock, rl = limiter(raw_requests_per_5_minutes=2)
    rl.admit("a", 0)
    rl.admit("a", 0)
    clock.advance(61_000)
    with pytest.raises(SimError) as caught:
        rl.admit("a", 0)
    assert (caught.value.code, caught.value.http_status) == (-1003, 429)
    assert caught.value.headers == {"Retry-After": "239"}


def test_order_counts_per_ten_seconds_and_day() -> None:
    clock, rl = limiter(orders_per_10_seconds=3, orders_per_day=5)
    rl.check_orders(7, 2)
    rl.add_orders(7, 2)
    with pytest.raises(SimError) as caught:
        rl.check_orders(7, 2)
    assert (caught.value.code, caught.value.http_status) == (-1015, 429)
    assert caught.value.msg == "Too many new orders; current limit is 3 orders per 10 SECOND."
    assert caught.value.headers == {"Retry-After": "10"}
    rl.check_orders(8, 3)  # another account has its own count
    clock.advance(10_000)
    rl.add_orders(7, 3)
    assert rl.order_counts(7) == (3, 5)
    with pytest.raises(SimError) as caught:
        rl.check_orders(7)
    assert caught.value.msg == "Too many new orders; current limit is 3 orders per 10 SECOND."
    clock.advance(10_000)
    with pytest.raises(SimError) as caught:
        rl.check_orders(7)
    assert caught.value.msg == "Too many new orders; current limit is 5 orders per 1 DAY."
    assert caught.value.headers == {"Retry-After": str((86_400_000 - 20_000) // 1000)}


def test_json_shapes() -> None:
    _, rl = limiter()
    assert rl.exchange_rate_limits() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
    ]
    rl.add_orders(1, 2)
    rl.admit("a", 7)
    assert rl.ws_rate_limits("a", 1) == [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 100,
            "count": 2,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": 200000,
            "count": 2,
        },
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": 6000,
            "count": 7,
        },
    ]


def test_limit_config_rejects_unknown_names_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown limit"):
        LimitConfig().updated({"nope": 1})
    with pytest.raises(ValueError, match="positive integer"):
        LimitConfig().updated({"orders_per_day": 0})
