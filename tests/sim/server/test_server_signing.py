"""Authentication over the wire: API keys, HMAC and Ed25519 signatures, timestamps."""

from __future__ import annotations

from typing import Any

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException
from Crypto.PublicKey import ECC

from engine.sim.runner import SimServer

BTC = "BTCUSDT"
BAD_KEY = (401, -2015, "Invalid API-key, IP, or permissions for action.")


def failure(caught: pytest.ExceptionInfo[BinanceAPIException]) -> tuple[int, int, str]:
    return caught.value.status_code, caught.value.code, caught.value.message


async def test_unknown_key_is_2015(client_factory: Any) -> None:
    stranger = await client_factory("NoSuchKey123", "whatever")
    with pytest.raises(BinanceAPIException) as caught:
        await stranger.get_account()
    assert failure(caught) == BAD_KEY


async def test_missing_key_is_2014(wire: Any) -> None:
    status, body, _ = await wire.request("GET", "/api/v3/account", {}, signed=True, api_key="")
    assert (status, body) == (401, {"code": -2014, "msg": "API-key format invalid."})


async def test_malformed_key_is_2014(client_factory: Any) -> None:
    odd = await client_factory("not a key", "whatever")
    with pytest.raises(BinanceAPIException) as caught:
        await odd.get_account()
    assert failure(caught) == (401, -2014, "API-key format invalid.")


async def test_wrong_secret_is_1022(client_factory: Any, sim: SimServer) -> None:
    impostor = await client_factory(sim.api_key, "wrong-secret")
    with pytest.raises(BinanceAPIException) as caught:
        await impostor.get_account()
    assert failure(caught) == (400, -1022, "Signature for this request is not valid.")


async def test_values_aiohttp_encodes_fail_the_signature_as_on_binance(client: AsyncClient) -> None:
    # python-binance signs "a:b" but aiohttp sends "a%3Ab" (BINANCE.md 2, encoding pitfall).
    with pytest.raises(BinanceAPIException) as caught:
        await client.create_order(
            symbol=BTC,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="90000.00",
            newClientOrderId="a:b",
        )
    assert caught.value.code == -1022


async def test_clock_ahead_of_the_server_is_1021(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.skew_clock(-2000)  # the exchange runs 2 s behind the client
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_account()
    assert failure(caught) == (
        400,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
    )


async def test_clock_behind_by_more_than_recv_window_is_1021(
    client: AsyncClient, sim: SimServer
) -> None:
    await sim.admin.skew_clock(6000)
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_account()
    assert failure(caught) == (
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    client.REQUEST_RECVWINDOW = 10_000
    assert "balances" in await client.get_account()


async def test_recv_window_above_the_maximum_is_1131(client: AsyncClient) -> None:
    client.REQUEST_RECVWINDOW = 60_001
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_account()
    assert failure(caught) == (400, -1131, "recvWindow must be less than 60000")


async def test_missing_timestamp_is_1102(wire: Any, sim: SimServer) -> None:
    async with wire.session.get(
        f"{sim.url}/api/v3/account?signature=00", headers={"X-MBX-APIKEY": sim.api_key}
    ) as response:
        assert (response.status, await response.json()) == (
            400,
            {
                "code": -1102,
                "msg": "Mandatory parameter 'timestamp' was not sent, was empty/null, or "
                "malformed.",
            },
        )


async def test_ed25519_key_signs_get_post_and_delete(sim: SimServer, client_factory: Any) -> None:
    private = ECC.generate(curve="ed25519")
    key = await sim.admin.register_key(
        sim.demo_account_id,
        ed25519_public_key_pem=private.public_key().export_key(format="PEM"),
    )
    assert list(key) == ["apiKey"]
    pem = private.export_key(format="PEM").strip()  # python-binance: Ed25519 if < 120 chars
    ed_client = await client_factory(key["apiKey"], None, private_key=pem)
    assert "balances" in await ed_client.get_account()
    order = await ed_client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="90000.00",
        newClientOrderId="ed-1",
    )
    assert order["status"] == "NEW"
    canceled = await ed_client.cancel_order(symbol=BTC, orderId=order["orderId"])
    assert canceled["status"] == "CANCELED"


async def test_an_ed25519_signature_by_another_key_is_1022(
    sim: SimServer, client_factory: Any
) -> None:
    registered = ECC.generate(curve="ed25519")
    other = ECC.generate(curve="ed25519")
    key = await sim.admin.register_key(
        sim.demo_account_id,
        ed25519_public_key_pem=registered.public_key().export_key(format="PEM"),
    )
    pem = other.export_key(format="PEM").strip()
    forger = await client_factory(key["apiKey"], None, private_key=pem)
    with pytest.raises(BinanceAPIException) as caught:
        await forger.get_account()
    assert failure(caught) == (400, -1022, "Signature for this request is not valid.")
