"""REST fault rules through the admin API, seen by python-binance, judged by the oracle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from engine.sim.core.errors import MSG_TIMEOUT, MSG_UNEXPECTED_RESP
from engine.sim.runner import SimServer
from engine.sim.server.admin_client import AdminError

BTC = "BTCUSDT"
ORDER = "/api/v3/order"


async def place(client: AsyncClient, client_id: str) -> dict[str, Any]:
    order: dict[str, Any] = await client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="90000.00",
        newClientOrderId=client_id,
    )
    return order


async def placed(sim: SimServer) -> list[str]:
    return [o["clientOrderId"] for o in (await sim.admin.oracle())["orders"]]


async def test_drop_closes_the_connection_without_placing(
    client: AsyncClient, sim: SimServer
) -> None:
    await sim.admin.add_fault("drop", method="POST", path=ORDER, count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await place(client, "drop-1")
    assert await placed(sim) == []
    await place(client, "drop-2")  # the rule was used up
    assert await placed(sim) == ["drop-2"]


async def test_lose_response_places_then_closes(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("lose_response", method="POST", path=ORDER, count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await place(client, "lost-1")
    assert await placed(sim) == ["lost-1"]


async def test_delay_past_the_client_timeout_places_the_order(
    client: AsyncClient, sim: SimServer
) -> None:
    client.REQUEST_TIMEOUT = 0.3  # type: ignore[misc]
    await sim.admin.add_fault("delay", method="POST", path=ORDER, seconds=1.0, count=1)
    with pytest.raises(TimeoutError):
        await place(client, "slow-1")
    assert await placed(sim) == ["slow-1"]


async def test_delay_answers_late(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("delay", path=ORDER, seconds=0.3, executeAt="after", count=1)
    started = time.monotonic()
    order = await place(client, "late-1")
    assert time.monotonic() - started >= 0.3
    assert order["status"] == "NEW"


async def test_a_request_stale_after_the_delay_is_rejected_before_execution(
    wire: Any, sim: SimServer
) -> None:
    await sim.admin.add_fault("delay", path=ORDER, seconds=0.3, executeAt="after", count=1)
    status, body, _ = await wire.request(
        "POST",
        ORDER,
        {
            "symbol": BTC,
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "90000.00",
            "recvWindow": "200",
        },
        signed=True,
        in_body=True,
    )
    assert (status, body) == (
        400,
        {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
    )
    assert await placed(sim) == []


async def test_html_502_without_execution(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("http_5xx", path=ORDER, status=502, format="html", count=1)
    with pytest.raises(BinanceAPIException) as caught:
        await place(client, "html-1")
    assert (caught.value.status_code, caught.value.code) == (502, 0)
    assert caught.value.response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert await placed(sim) == []


async def test_json_503_after_execution(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("http_5xx", path=ORDER, status=503, execute=True, count=1)
    with pytest.raises(BinanceAPIException) as caught:
        await place(client, "json-1")
    assert (caught.value.status_code, caught.value.code) == (503, -1000)
    assert await placed(sim) == ["json-1"]


@pytest.mark.parametrize(
    ("code", "message", "execute"),
    [(-1007, MSG_TIMEOUT, True), (-1007, MSG_TIMEOUT, False), (-1006, MSG_UNEXPECTED_RESP, True)],
)
async def test_unknown_status_error_codes(
    client: AsyncClient, sim: SimServer, code: int, message: str, execute: bool
) -> None:
    await sim.admin.add_fault("error_code", path=ORDER, code=code, execute=execute, count=1)
    with pytest.raises(BinanceAPIException) as caught:
        await place(client, "unknown-1")
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        503,
        code,
        message,
    )
    assert await placed(sim) == (["unknown-1"] if execute else [])


async def test_status_429_fault(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("status_429", path=ORDER, retryAfter=30, count=1)
    with pytest.raises(BinanceAPIException) as caught:
        await place(client, "limited-1")
    assert (caught.value.status_code, caught.value.code) == (429, -1003)
    assert caught.value.response.headers["Retry-After"] == "30"
    assert await placed(sim) == []


async def test_status_418_fault_bans_the_ip(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("status_418", path="/api/v3/account", retryAfter=120, count=1)
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_account()
    assert (caught.value.status_code, caught.value.code) == (418, -1003)
    assert caught.value.response.headers["Retry-After"] == "120"
    with pytest.raises(BinanceAPIException) as caught:
        await client.ping()  # every path, until the ban ends or the limits are reset
    assert caught.value.status_code == 418
    await sim.admin.reset_limits()
    assert await client.ping() == {}


async def test_rules_match_method_and_path_prefix_and_are_listed(
    client: AsyncClient, sim: SimServer
) -> None:
    await sim.admin.add_fault("error_code", method="GET", path="/api/v3/ticker/*", code=-1007)
    listed = (await sim.admin.faults())["rules"]
    assert listed == [
        {
            "kind": "error_code",
            "method": "GET",
            "path": "/api/v3/ticker/*",
            "count": None,
            "status": 503,
            "execute": False,
            "code": -1007,
            "msg": MSG_TIMEOUT,
            "remaining": None,
        }
    ]
    for _ in range(2):  # no count: until cleared
        with pytest.raises(BinanceAPIException):
            await client.get_symbol_ticker(symbol=BTC)
    assert await client.get_avg_price(symbol=BTC)  # another path
    assert await client.get_exchange_info()
    assert await sim.admin.clear_faults() == {"rules": []}
    assert await client.get_symbol_ticker(symbol=BTC)


async def test_counted_rules_are_used_up_in_order(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.call(
        "POST",
        "faults",
        {
            "rules": [
                {"kind": "status_429", "path": ORDER, "count": 1},
                {"kind": "error_code", "path": ORDER, "count": 1},
            ]
        },
    )
    assert [r["remaining"] for r in (await sim.admin.faults())["rules"]] == [1, 1]
    codes = []
    for n in range(3):
        try:
            await place(client, f"seq-{n}")
            codes.append(200)
        except BinanceAPIException as error:
            codes.append(error.status_code)
    assert codes == [429, 503, 200]


async def test_bad_rules_are_refused(sim: SimServer) -> None:
    with pytest.raises(AdminError) as caught:
        await sim.admin.add_fault("explode")
    assert caught.value.status == 400
    assert caught.value.body == {
        "error": "kind must be one of: drop, lose_response, delay, "
        "http_5xx, error_code, status_429, status_418"
    }
    with pytest.raises(AdminError):
        await sim.admin.add_fault("http_5xx", status=404)
    with pytest.raises(AdminError):
        await sim.admin.add_fault("delay", seconds=-1)


async def test_a_delayed_request_does_not_block_others(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.add_fault("delay", path="/api/v3/account", seconds=0.5, count=1)
    slow = asyncio.ensure_future(client.get_account())
    started = time.monotonic()
    assert await client.ping() == {}
    assert time.monotonic() - started < 0.4
    assert "balances" in await slow
