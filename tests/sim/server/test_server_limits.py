"""Rate limits over the wire: 429 with Retry-After, escalation to 418, order counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def test_over_the_weight_limit_is_429_then_418(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.reset_limits()
    await sim.admin.limits(request_weight_per_minute=3, ban_after_429s=2, ban_ms=120_000)
    for _ in range(3):
        await client.ping()
    statuses = []
    for _ in range(2):
        with pytest.raises(BinanceAPIException) as caught:
            await client.ping()
        statuses.append((caught.value.status_code, caught.value.code))
        retry_after = int(caught.value.response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert caught.value.message == (
            "Too much request weight used; current limit is 3 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
    assert statuses == [(429, -1003), (429, -1003)]
    with pytest.raises(BinanceAPIException) as caught:
        await client.ping()
    assert (caught.value.status_code, caught.value.code) == (418, -1003)
    match = re.fullmatch(
        r"Way too much request weight used; IP banned until (\d+)\. Please use WebSocket "
        r"Streams for live updates to avoid bans\.",
        caught.value.message,
    )
    assert match is not None
    assert int(match.group(1)) - sim.clock.now_ms() <= 120_000
    assert caught.value.response.headers["Retry-After"] == "120"
    # Banned: every request is refused, with the weight header still present.
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_server_time()
    assert caught.value.status_code == 418
    assert caught.value.response.headers["X-MBX-USED-WEIGHT-1M"] == "6"
    await sim.admin.reset_limits()
    assert await client.ping() == {}


async def test_too_many_orders_is_429_1015(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.limits(orders_per_10_seconds=2)
    for price in ("90000.00", "89000.00"):
        await client.create_order(
            symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price=price
        )
    with pytest.raises(BinanceAPIException) as caught:
        await client.create_order(
            symbol=BTC,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="88000.00",
        )
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        429,
        -1015,
        "Too many new orders; current limit is 2 orders per 10 SECOND.",
    )
    assert 1 <= int(caught.value.response.headers["Retry-After"]) <= 10
    assert len((await sim.admin.oracle())["orders"]) == 2
    # An OCO counts two orders and is refused whole.
    await sim.admin.reset_limits()
    await sim.admin.limits(orders_per_10_seconds=1)
    with pytest.raises(BinanceAPIException) as caught:
        await client.create_oco_order(
            symbol=BTC,
            side="SELL",
            quantity="0.001",
            aboveType="LIMIT_MAKER",
            abovePrice="99000.00",
            belowType="STOP_LOSS_LIMIT",
            belowPrice="89000.00",
            belowStopPrice="90000.00",
            belowTimeInForce="GTC",
        )
    assert caught.value.code == -1015


async def test_limits_are_listed_and_bad_ones_refused(sim: SimServer) -> None:
    limits = await sim.admin.limits(orders_per_day=5)
    assert limits == {
        "request_weight_per_minute": 6000,
        "raw_requests_per_5_minutes": 300000,
        "orders_per_10_seconds": 100,
        "orders_per_day": 5,
        "ban_after_429s": 5,
        "ban_ms": 120000,
    }
    from engine.sim.server.admin_client import AdminError

    with pytest.raises(AdminError) as caught:
        await sim.admin.limits(orders_per_day=0)
    assert (caught.value.status, caught.value.body) == (
        400,
        {"error": "orders_per_day must be a positive integer"},
    )


async def test_exchange_info_reports_the_configured_limits(
    client: AsyncClient, sim: SimServer
) -> None:
    await sim.admin.limits(request_weight_per_minute=1200, orders_per_10_seconds=50)
    limits: list[dict[str, Any]] = (await client.get_exchange_info())["rateLimits"]
    assert [(x["rateLimitType"], x["limit"]) for x in limits] == [
        ("REQUEST_WEIGHT", 1200),
        ("ORDERS", 50),
        ("ORDERS", 200000),
        ("RAW_REQUESTS", 300000),
    ]
