"""The error taxonomy over the wire: every class provoked through the sim's fault admin API."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from venue_testkit import make_venue, sim_credentials

from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.venue.binance import BinanceVenue
from engine.venue.endpoints import Credentials
from engine.venue.errors import AuthError, NotSent, RateLimited, Rejected, Unknown

SYMBOL = "BTCUSDT"
ORDER_PATH = "/api/v3/order"


async def place(venue: BinanceVenue, client_order_id: str) -> Any:
    return await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id=client_order_id,
        quantity=Decimal("0.001"),
        price=Decimal("50000.00"),
        time_in_force=TimeInForce.GTC,
    )


async def placed_ids(sim: Any) -> list[str]:
    return [o["clientOrderId"] for o in (await sim.admin.oracle())["orders"]]


async def test_a_lost_response_is_unknown_and_the_order_exists(
    venue: BinanceVenue, sim: Any
) -> None:
    await sim.admin.add_fault("lose_response", method="POST", path=ORDER_PATH, count=1)
    before = venue.server_now_ms()
    with pytest.raises(Unknown) as caught:
        await place(venue, "sd-f1-1")
    assert caught.value.code is None and caught.value.http_status is None
    # The request's timestamp lies between these two estimates of the exchange's clock.
    assert caught.value.server_time_ms is not None and caught.value.recv_window_ms == 5000
    assert before <= caught.value.server_time_ms <= venue.server_now_ms()
    truth = [o for o in (await sim.admin.oracle())["orders"] if o["clientOrderId"] == "sd-f1-1"]
    assert before - 1000 <= truth[0]["time"] <= caught.value.server_time_ms + 1000
    assert await placed_ids(sim) == ["sd-f1-1"]
    # Settled by querying, never by resending (R3).
    assert (await venue.get_order(SYMBOL, "sd-f1-1")).state is OrderState.NEW


async def test_a_lost_cancel_response_is_unknown_not_a_resent_cancel(
    venue: BinanceVenue, sim: Any
) -> None:
    await place(venue, "sd-f2-1")
    await venue.server_time()  # the connection is now a reused, keep-alive one
    await sim.admin.add_fault("lose_response", method="DELETE", path=ORDER_PATH, count=1)
    with pytest.raises(Unknown):
        await venue.cancel_order(SYMBOL, "sd-f2-1")
    assert (await venue.get_order(SYMBOL, "sd-f2-1")).state is OrderState.CANCELED


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"kind": "http_5xx", "status": 502, "format": "html"}, 502, None),
        ({"kind": "http_5xx", "status": 504, "execute": True}, 504, -1000),
        ({"kind": "error_code", "code": -1007, "status": 503, "execute": True}, 503, -1007),
        ({"kind": "error_code", "code": -1006, "status": 503}, 503, -1006),
    ],
)
async def test_5xx_and_unknown_codes_are_unknown(
    venue: BinanceVenue, sim: Any, fault: dict[str, Any], status: int, code: int | None
) -> None:
    await sim.admin.call(
        "POST", "faults", {**fault, "method": "POST", "path": ORDER_PATH, "count": 1}
    )
    with pytest.raises(Unknown) as caught:
        await place(venue, "sd-f3-1")
    assert (caught.value.http_status, caught.value.code) == (status, code)
    assert await placed_ids(sim) == (["sd-f3-1"] if fault.get("execute") else [])


async def test_a_dropped_request_is_unknown_although_nothing_was_placed(
    venue: BinanceVenue, sim: Any
) -> None:
    await sim.admin.add_fault("drop", method="POST", path=ORDER_PATH, count=1)
    with pytest.raises(Unknown):
        await place(venue, "sd-f4-1")
    assert await placed_ids(sim) == []


async def test_a_reply_slower_than_the_client_timeout_is_unknown(sim: Any) -> None:
    venue = make_venue(sim.url, sim_credentials(sim), request_timeout_s=0.3)
    await venue.start()
    try:
        await sim.admin.add_fault(
            "delay", method="POST", path=ORDER_PATH, seconds=1.0, executeAt="before", count=1
        )
        with pytest.raises(Unknown, match="no reply in time"):
            await place(venue, "sd-f5-1")
        assert await placed_ids(sim) == ["sd-f5-1"]
    finally:
        await venue.close()


async def test_429_then_nothing_is_sent_until_retry_after(venue: BinanceVenue, sim: Any) -> None:
    await sim.admin.add_fault("status_429", path=ORDER_PATH, retryAfter=30, count=1)
    with pytest.raises(RateLimited) as caught:
        await place(venue, "sd-f6-1")
    assert (
        caught.value.http_status,
        caught.value.code,
        caught.value.retry_after,
        caught.value.banned,
    ) == (429, -1003, 30.0, False)
    # The fault was used up, so a request that reached the sim would succeed: this one is
    # refused before it is sent.
    with pytest.raises(RateLimited) as local:
        await venue.server_time()
    assert local.value.http_status is None and 29 < local.value.retry_after <= 30
    assert venue.budget.snapshot().blocked_for_s > 29
    assert await placed_ids(sim) == []


async def test_418_is_a_ban(venue: BinanceVenue, sim: Any) -> None:
    await sim.admin.add_fault("status_418", path="/api/v3/account", retryAfter=120, count=1)
    with pytest.raises(RateLimited) as caught:
        await venue.account()
    assert (caught.value.http_status, caught.value.banned, caught.value.retry_after) == (
        418,
        True,
        120.0,
    )
    with pytest.raises(RateLimited) as local:
        await place(venue, "sd-f7-1")
    assert local.value.banned is True and local.value.http_status is None


async def test_clock_skew_is_resynced_and_the_order_sent_once_more(
    venue: BinanceVenue, sim: Any
) -> None:
    offset_before = venue.client.timestamp_offset
    await sim.admin.skew_clock(20_000)
    placed = await place(venue, "sd-f8-1")
    assert placed.status.state is OrderState.NEW
    assert await placed_ids(sim) == ["sd-f8-1"]
    assert 19_000 < venue.client.timestamp_offset - offset_before < 21_000


async def test_a_second_timestamp_rejection_surfaces_as_rejected(
    venue: BinanceVenue, sim: Any
) -> None:
    await sim.admin.add_fault(
        "error_code",
        method="POST",
        path=ORDER_PATH,
        code=-1021,
        status=400,
        msg="Timestamp for this request is outside of the recvWindow.",
        count=2,
    )
    with pytest.raises(Rejected) as caught:
        await place(venue, "sd-f9-1")
    assert (caught.value.code, caught.value.http_status) == (-1021, 400)
    assert (await sim.admin.faults())["rules"] == []  # both answers were used: one retry
    assert await placed_ids(sim) == []


async def test_an_unknown_key_is_an_auth_error(sim: Any) -> None:
    venue = make_venue(
        sim.url, Credentials(SecretStr("NoSuchKey123"), api_secret=SecretStr("whatever"))
    )
    await venue.start()  # the time sync is unsigned
    try:
        with pytest.raises(AuthError) as caught:
            await venue.account()
        assert caught.value.code == -2015
    finally:
        await venue.close()


async def test_a_wrong_secret_is_an_auth_error(sim: Any) -> None:
    venue = make_venue(
        sim.url, Credentials(SecretStr(sim.api_key), api_secret=SecretStr("not-the-secret"))
    )
    await venue.start()
    try:
        with pytest.raises(AuthError) as caught:
            await place(venue, "sd-f10-1")
        assert caught.value.code == -1022
    finally:
        await venue.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_closed_port_is_not_sent(sim: Any) -> None:
    venue = make_venue(closed_port_url(), sim_credentials(sim))
    with pytest.raises(NotSent):
        await venue.start()


async def test_an_order_to_a_closed_port_is_not_sent(venue: BinanceVenue, sim: Any) -> None:
    venue.client.API_URL = closed_port_url() + "/api"  # the exchange's host became unreachable
    with pytest.raises(NotSent):
        await place(venue, "sd-f11-1")
    assert await placed_ids(sim) == []
