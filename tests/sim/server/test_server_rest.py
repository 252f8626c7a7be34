"""Every REST endpoint through unmodified python-binance, and the exact wire (weights, headers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def limit_buy(client: AsyncClient, price: str = "90000.00", **extra: Any) -> dict[str, Any]:
    order: dict[str, Any] = await client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price,
        **extra,
    )
    return order


async def test_ping_time_and_exchange_info(client: AsyncClient, sim: SimServer) -> None:
    assert await client.ping() == {}
    before = sim.clock.now_ms()
    server_time = (await client.get_server_time())["serverTime"]
    assert before <= server_time <= sim.clock.now_ms()
    info = await client.get_exchange_info()
    assert list(info) == ["timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"]
    assert info["rateLimits"] == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
    ]
    assert [s["symbol"] for s in info["symbols"]] == [s.symbol for s in sim.exchange.symbols]


async def test_tickers_and_average_price_are_the_exchange_s(
    client: AsyncClient, sim: SimServer
) -> None:
    exchange = sim.exchange
    assert await client.get_symbol_ticker(symbol=BTC) == exchange.ticker_price({"symbol": BTC})
    assert await client.get_symbol_ticker() == exchange.ticker_price({})
    assert await client.get_orderbook_ticker(symbol=BTC) == exchange.book_ticker({"symbol": BTC})
    assert await client.get_orderbook_ticker() == exchange.book_ticker({})
    assert await client.get_avg_price(symbol=BTC) == exchange.avg_price({"symbol": BTC})
    with pytest.raises(BinanceAPIException) as caught:
        await client.get_avg_price(symbol="NOPEUSDT")
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        400,
        -1121,
        "Invalid symbol.",
    )


async def test_account_shows_the_demo_balances(client: AsyncClient) -> None:
    balances = {b["asset"]: b for b in (await client.get_account())["balances"]}
    assert balances["USDT"] == {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"}
    assert balances["BTC"]["free"] == "0.01000000"


async def test_order_lifecycle(client: AsyncClient, sim: SimServer) -> None:
    order = await limit_buy(client, newClientOrderId="life-1")
    assert (order["status"], order["clientOrderId"], order["price"]) == (
        "NEW",
        "life-1",
        "90000.00000000",
    )
    assert client.response is not None
    assert client.response.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert client.response.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    queried = await client.get_order(symbol=BTC, origClientOrderId="life-1")
    assert (queried["orderId"], queried["status"]) == (order["orderId"], "NEW")
    assert [o["orderId"] for o in await client.get_open_orders(symbol=BTC)] == [order["orderId"]]
    assert [o["orderId"] for o in await client.get_open_orders()] == [order["orderId"]]
    canceled = await client.cancel_order(symbol=BTC, orderId=order["orderId"])
    assert canceled["status"] == "CANCELED"
    assert await client.get_open_orders(symbol=BTC) == []
    history = await client.get_all_orders(symbol=BTC)
    assert [(o["clientOrderId"], o["status"]) for o in history] == [("life-1", "CANCELED")]
    with pytest.raises(BinanceAPIException) as caught:
        await client.cancel_order(symbol=BTC, orderId=order["orderId"])
    assert (caught.value.status_code, caught.value.code) == (400, -2011)
    assert [o["clientOrderId"] for o in (await sim.admin.oracle())["orders"]] == ["life-1"]


async def test_test_order_places_nothing(client: AsyncClient, sim: SimServer) -> None:
    assert (
        await client.create_test_order(
            symbol=BTC,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="90000.00",
        )
        == {}
    )
    assert (await sim.admin.oracle())["orders"] == []


async def test_cancel_all_open_orders(client: AsyncClient) -> None:
    first = await limit_buy(client, price="90000.00")
    second = await limit_buy(client, price="89000.00")
    canceled = await client.cancel_all_open_orders(symbol=BTC)
    assert sorted(o["orderId"] for o in canceled) == [first["orderId"], second["orderId"]]
    assert all(o["status"] == "CANCELED" for o in canceled)


async def test_market_buy_and_my_trades(client: AsyncClient, sim: SimServer) -> None:
    order = await client.order_market_buy(symbol=BTC, quantity="0.00100")
    assert order["status"] == "FILLED"
    trades = await client.get_my_trades(symbol=BTC)
    assert [t["orderId"] for t in trades] == [order["orderId"]] * len(order["fills"])
    assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.001")
    oracle_trades = (await sim.admin.oracle(sim.demo_account_id))["trades"]
    assert [t["id"] for t in oracle_trades] == [t["id"] for t in trades]


async def test_oco_and_order_lists(client: AsyncClient) -> None:
    oco = await client.create_oco_order(
        symbol=BTC,
        side="SELL",
        quantity="0.00100",
        aboveType="LIMIT_MAKER",
        abovePrice="99000.00",
        belowType="STOP_LOSS_LIMIT",
        belowPrice="89000.00",
        belowStopPrice="90000.00",
        belowTimeInForce="GTC",
        listClientOrderId="oco-1",
    )
    assert (oco["listClientOrderId"], oco["listOrderStatus"]) == ("oco-1", "EXECUTING")
    list_id = oco["orderListId"]
    open_lists = await client.get_open_oco_orders()
    assert [lst["orderListId"] for lst in open_lists] == [list_id]
    queried = await client._get("orderList", True, data={"orderListId": list_id})
    assert queried["listClientOrderId"] == "oco-1"
    canceled = await client._delete("orderList", True, data={"symbol": BTC, "orderListId": list_id})
    assert canceled["listOrderStatus"] == "ALL_DONE"
    assert await client.get_open_oco_orders() == []


async def test_cancel_replace(client: AsyncClient) -> None:
    old = await limit_buy(client, price="90000.00")
    replaced = await client.cancel_replace_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price="91000.00",
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=old["orderId"],
    )
    assert (replaced["cancelResult"], replaced["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert replaced["newOrderResponse"]["price"] == "91000.00000000"
    with pytest.raises(BinanceAPIException) as caught:
        await client.cancel_replace_order(
            symbol=BTC,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price="91000.00",
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrderId=old["orderId"],
        )
    assert (caught.value.status_code, caught.value.code) == (400, -2022)


async def test_order_count_and_api_restrictions(client: AsyncClient) -> None:
    await limit_buy(client)
    await limit_buy(client, price="89000.00")
    assert await client.get_current_order_count() == [
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
    ]
    restrictions = await client.get_account_api_permissions()
    assert (
        restrictions["enableReading"],
        restrictions["enableSpotAndMarginTrading"],
        restrictions["enableWithdrawals"],
    ) == (True, True, False)


async def test_a_read_only_key_cannot_trade(sim: SimServer, client_factory: Any) -> None:
    key = await sim.admin.register_key(
        sim.demo_account_id, permissions={"enableSpotAndMarginTrading": False}
    )
    reader = await client_factory(key["apiKey"], key["secret"])
    assert (await reader.get_account())["balances"]
    with pytest.raises(BinanceAPIException) as caught:
        await limit_buy(reader)
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    )


async def test_weights_and_used_weight_header(wire: Any) -> None:
    expectations = [
        ("GET", "/api/v3/ping", {}, False, 1),
        ("GET", "/api/v3/time", {}, False, 1),
        ("GET", "/api/v3/exchangeInfo", {}, False, 20),
        ("GET", "/api/v3/ticker/price", {"symbol": BTC}, False, 2),
        ("GET", "/api/v3/ticker/price", {}, False, 4),
        ("GET", "/api/v3/ticker/bookTicker", {"symbol": BTC}, False, 2),
        ("GET", "/api/v3/ticker/bookTicker", {}, False, 4),
        ("GET", "/api/v3/avgPrice", {"symbol": BTC}, False, 2),
        ("GET", "/api/v3/account", {}, True, 20),
        ("GET", "/api/v3/openOrders", {"symbol": BTC}, True, 6),
        ("GET", "/api/v3/openOrders", {}, True, 80),
        ("GET", "/api/v3/allOrders", {"symbol": BTC}, True, 20),
        ("GET", "/api/v3/myTrades", {"symbol": BTC}, True, 20),
        ("GET", "/api/v3/myTrades", {"symbol": BTC, "orderId": "1"}, True, 5),
        ("GET", "/api/v3/openOrderList", {}, True, 6),
        ("GET", "/api/v3/rateLimit/order", {}, True, 40),
        ("GET", "/sapi/v1/account/apiRestrictions", {}, True, 1),
        (
            "POST",
            "/api/v3/order/test",
            {"symbol": BTC, "side": "BUY", "type": "MARKET", "quantity": "0.001"},
            True,
            1,
        ),
        (
            "POST",
            "/api/v3/order",
            {
                "symbol": BTC,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "90000.00",
            },
            True,
            0,
        ),
        ("GET", "/api/v3/order", {"symbol": BTC, "orderId": "1"}, True, 4),
        ("DELETE", "/api/v3/order", {"symbol": BTC, "orderId": "1"}, True, 0),
        ("DELETE", "/api/v3/order", {"symbol": BTC, "orderId": "1"}, True, 1),  # failed: charged
    ]
    used = 0
    for method, path, params, signed, weight in expectations:
        status, _, headers = await wire.request(
            method, path, params, signed=signed, in_body=method != "GET"
        )
        used += weight
        assert (path, headers["X-MBX-USED-WEIGHT-1M"]) == (path, str(used)), status
        assert headers["Content-Type"] == "application/json; charset=utf-8"


async def test_delete_parameters_may_come_in_the_body_or_the_query(wire: Any) -> None:
    params = {
        "symbol": BTC,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "90000.00",
    }
    status, placed, _ = await wire.request("POST", "/api/v3/order", params, signed=True)
    assert status == 200  # POST with the parameters in the query string
    status, body, _ = await wire.request(
        "DELETE",
        "/api/v3/order",
        {"symbol": BTC, "orderId": str(placed["orderId"])},
        signed=True,
        in_body=True,
    )
    assert (status, body["status"]) == (200, "CANCELED")


async def test_unknown_paths_are_json_404_and_retired_user_data_stream_410(wire: Any) -> None:
    assert (await wire.request("GET", "/api/v3/nope"))[:2] == (
        404,
        {"code": -1099, "msg": "Not found, authenticated, or authorized"},
    )
    assert (await wire.request("GET", "/elsewhere"))[:2] == (
        404,
        {"code": -1099, "msg": "Not found, authenticated, or authorized"},
    )
    assert (await wire.request("POST", "/api/v3/userDataStream"))[0] == 410
    assert (await wire.request("PUT", "/api/v3/order"))[:2] == (
        405,
        {"code": -1020, "msg": "PUT is not supported here."},
    )
