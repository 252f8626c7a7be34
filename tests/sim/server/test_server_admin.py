"""The admin API: loopback only, and each of its knobs as a client of the exchange sees it."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from engine.sim.core.clock import ManualClock
from engine.sim.core.exchange import Exchange
from engine.sim.runner import DEMO_BALANCES, SimServer
from engine.sim.server.admin import is_loopback
from engine.sim.server.admin_client import AdminError

BTC = "BTCUSDT"


def test_is_loopback() -> None:
    assert [is_loopback(a) for a in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1")] == [
        True,
        True,
        True,
        False,
    ]
    assert [is_loopback(a) for a in ("192.0.2.7", "10.0.0.1", "", None, "garbage")] == [
        False,
        False,
        False,
        False,
        False,
    ]


async def test_remote_clients_get_403(sim: SimServer) -> None:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("192.0.2.7", 40000) if name == "peername" else default
    )
    request = make_mocked_request("GET", "/_sim/oracle", transport=transport, app=sim.app)
    match = await sim.app.router.resolve(request)
    response = await match.handler(request)
    assert response.status == 403
    assert response.text == '{"error":"the admin API answers loopback clients only"}'


async def test_oracle_lists_orders_per_account(client: AsyncClient, sim: SimServer) -> None:
    await client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="90000.00",
        newClientOrderId="o-1",
    )
    other = await sim.admin.create_account({"USDT": "100"}, name="other")
    everything = await sim.admin.oracle()
    assert [o["clientOrderId"] for o in everything["orders"]] == ["o-1"]
    assert sorted(everything["balances"]) == [str(sim.demo_account_id), str(other)]
    assert (await sim.admin.oracle(other))["orders"] == []
    assert (await sim.admin.oracle(other))["balances"] == {
        str(other): {"USDT": {"free": "100.00000000", "locked": "0.00000000"}}
    }


async def test_price_and_step_move_the_market(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.set_price(BTC, "91234.56")
    assert await client.get_symbol_ticker(symbol=BTC) == {"symbol": BTC, "price": "91234.56000000"}
    reference = Exchange(clock=ManualClock(), seed=7)
    reference.set_price(BTC, Decimal("91234.56"))
    reference.step_market(5)
    await sim.admin.step(5)
    assert await client.get_symbol_ticker(symbol=BTC) == reference.ticker_price({"symbol": BTC})


async def test_fund_by_account_or_key(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.fund(sim.demo_account_id, "USDT", "5.5")
    await sim.admin.call("POST", "fund", {"apiKey": sim.api_key, "asset": "XRP", "amount": "7"})
    balances = {b["asset"]: b["free"] for b in (await client.get_account())["balances"]}
    assert (balances["USDT"], balances["XRP"]) == ("10005.50000000", "7.00000000")
    with pytest.raises(AdminError) as caught:
        await sim.admin.fund(sim.demo_account_id, "XRP", "-8")
    assert (caught.value.status, caught.value.body["code"]) == (400, -2010)
    with pytest.raises(AdminError) as caught:
        await sim.admin.call("POST", "fund", {"apiKey": "Nobody1", "asset": "X", "amount": "1"})
    assert caught.value.body == {"error": "no such API key"}


async def test_new_account_with_its_own_key(sim: SimServer, client_factory: object) -> None:
    account = await sim.admin.create_account({"USDT": "250", "BTC": "0.01"})
    key = await sim.admin.register_key(account, api_key="SecondKey1", secret="second-secret")
    assert key == {"apiKey": "SecondKey1", "secret": "second-secret"}
    second = await client_factory("SecondKey1", "second-secret")  # type: ignore[operator]
    balances = {
        b["asset"]: b["free"]
        for b in (await second.get_account())["balances"]
        if Decimal(b["free"])
    }
    assert balances == {"BTC": "0.01000000", "USDT": "250.00000000"}
    with pytest.raises(AdminError) as caught:
        await sim.admin.register_key(account, api_key="bad key")
    assert caught.value.status == 400


async def test_bnb_burn_pays_fees_in_bnb(client: AsyncClient, sim: SimServer) -> None:
    await sim.admin.bnb_burn(sim.demo_account_id, True)
    order = await client.order_market_buy(symbol=BTC, quantity="0.001")
    assert {fill["commissionAsset"] for fill in order["fills"]} == {"BNB"}


async def test_config_visibility_lag(client: AsyncClient, sim: SimServer) -> None:
    config = await sim.admin.config()
    assert (config["fee_rate"], config["visibility_lag_ms"]) == ("0.001", 0)
    changed = await sim.admin.config(visibility_lag_ms=60_000, fee_rate="0.002")
    assert (changed["fee_rate"], changed["visibility_lag_ms"]) == ("0.002", 60000)
    await client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="90000.00",
        newClientOrderId="lag-1",
    )
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_order(symbol=BTC, origClientOrderId="lag-1")
    assert (caught.value.code, caught.value.message) == (-2013, "Order does not exist.")
    with pytest.raises(AdminError) as refused:
        await sim.admin.config(nope=1)
    assert refused.value.body == {"error": "unknown config field(s): nope"}
    with pytest.raises(AdminError):
        await sim.admin.config(visibility_lag_ms="soon")


async def test_clock_skew(sim: SimServer) -> None:
    before = await sim.admin.call("GET", "clock")
    assert before["skew_ms"] == 0
    after = await sim.admin.skew_clock(30_000)
    assert after["skew_ms"] == 30_000
    assert 29_000 < after["serverTime"] - before["serverTime"] < 31_000


async def test_reset_starts_over_with_the_same_demo_key(
    client: AsyncClient, sim: SimServer
) -> None:
    await client.order_market_buy(symbol=BTC, quantity="0.001")
    await sim.admin.add_fault("drop", path="/api/v3/nothing")
    await sim.admin.reset()
    oracle = await sim.admin.oracle()
    assert (oracle["orders"], oracle["trades"]) == ([], [])
    assert (await sim.admin.faults())["rules"] == []
    balances = {b["asset"]: Decimal(b["free"]) for b in (await client.get_account())["balances"]}
    assert {asset: amount for asset, amount in balances.items() if amount} == DEMO_BALANCES


async def test_bad_bodies_are_400(sim: SimServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.url}/_sim/price", data="not json") as response,
    ):
        assert (response.status, await response.json()) == (
            400,
            {"error": "the body must be a JSON object"},
        )
    with pytest.raises(AdminError) as caught:
        await sim.admin.call("POST", "price", {"price": "1"})
    assert caught.value.body == {"error": "symbol must be a non-empty string"}
    with pytest.raises(AdminError) as caught:
        await sim.admin.call("POST", "stream", {"action": "explode"})
    assert caught.value.status == 400
