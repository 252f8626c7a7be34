"""The WebSocket API: the user data stream subscription, its events and its faults."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from binance import AsyncClient, BinanceSocketManager
from binance.exceptions import BinanceAPIException
from binance.ws.constants import WSListenerState
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from engine.sim.runner import SimServer

BTC = "BTCUSDT"


class WsApiPeer:
    """A raw WebSocket API client, to check frames exactly."""

    def __init__(self, sim: SimServer, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.sim = sim
        self.ws = ws
        self._ids = 0

    async def send(self, method: str, params: dict[str, Any] | None = None) -> str:
        self._ids += 1
        request_id = f"r{self._ids}"
        frame: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            frame["params"] = params
        await self.ws.send_str(json.dumps(frame))
        return request_id

    async def frame(self, wait_s: float = 2.0) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), wait_s)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        found: dict[str, Any] = json.loads(message.data)
        return found

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id = await self.send(method, params)
        answer = await self.frame()
        assert answer["id"] == request_id
        return answer

    def signed(self, secret: str | None = None, **extra: Any) -> dict[str, Any]:
        params = {"apiKey": self.sim.api_key, "timestamp": self.sim.clock.now_ms(), **extra}
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        key = (secret or self.sim.api_secret).encode()
        return {**params, "signature": hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()}

    async def subscribe(self) -> int:
        answer = await self.call("userDataStream.subscribe.signature", self.signed())
        assert answer["status"] == 200, answer
        subscription_id: int = answer["result"]["subscriptionId"]
        return subscription_id


@pytest.fixture
async def peer(sim: SimServer) -> AsyncIterator[WsApiPeer]:
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_api_url) as ws:
        yield WsApiPeer(sim, ws)


async def test_ping_and_time_with_rate_limits(peer: WsApiPeer, sim: SimServer) -> None:
    answer = await peer.call("ping")
    assert answer == {
        "id": "r1",
        "status": 200,
        "result": {},
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
                "count": 3,
            }
        ],
    }  # 2 for the connection, 1 for the ping
    answer = await peer.call("time", {"returnRateLimits": False})
    assert set(answer) == {"id", "status", "result"}
    assert abs(answer["result"]["serverTime"] - sim.clock.now_ms()) < 1000


async def test_unknown_method_and_bad_json(peer: WsApiPeer) -> None:
    answer = await peer.call("order.fly", {})
    assert (answer["status"], answer["error"]) == (
        400,
        {"code": -1020, "msg": "This operation is not supported."},
    )
    await peer.ws.send_str("{not json")
    answer = await peer.frame()
    assert (answer["id"], answer["status"], answer["error"]["code"]) == (None, 400, -1135)


async def test_subscribe_events_and_unsubscribe(
    peer: WsApiPeer, client: AsyncClient, sim: SimServer
) -> None:
    subscription = await peer.subscribe()
    assert subscription == 0
    await client.create_order(
        symbol=BTC,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.001",
        price="90000.00",
        newClientOrderId="ws-1",
    )
    report = await peer.frame()
    assert report["subscriptionId"] == 0
    assert (report["event"]["e"], report["event"]["c"], report["event"]["X"]) == (
        "executionReport",
        "ws-1",
        "NEW",
    )
    position = await peer.frame()
    assert position["event"]["e"] == "outboundAccountPosition"
    assert await peer.call("session.subscriptions") == {
        "id": "r2",
        "status": 200,
        "result": [{"subscriptionId": 0}],
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
                "count": peer_weight(sim),
            }
        ],
    }
    answer = await peer.call("userDataStream.unsubscribe", {"subscriptionId": 0})
    assert (answer["status"], answer["result"]) == (200, {})
    terminated = await peer.frame()
    assert terminated["subscriptionId"] == 0
    assert terminated["event"]["e"] == "eventStreamTerminated"
    await sim.admin.fund(sim.demo_account_id, "USDT", "1")
    with pytest.raises(TimeoutError):
        await peer.frame(wait_s=0.2)  # nothing after the end of the subscription


def peer_weight(sim: SimServer) -> int:
    return sim.ctx.limiter.used_weight("127.0.0.1")


async def test_one_subscription_per_account_per_connection(peer: WsApiPeer) -> None:
    assert await peer.subscribe() == 0
    answer = await peer.call("userDataStream.subscribe.signature", peer.signed())
    assert (answer["status"], answer["error"]) == (
        400,
        {"code": -2035, "msg": "User Data Stream subscription already active."},
    )


async def test_subscribe_checks_signature_key_and_time(peer: WsApiPeer, sim: SimServer) -> None:
    answer = await peer.call("userDataStream.subscribe.signature", peer.signed(secret="wrong"))
    assert (answer["status"], answer["error"]["code"]) == (400, -1022)
    bad_key = {**peer.signed(), "apiKey": "Unknown1"}
    answer = await peer.call("userDataStream.subscribe.signature", bad_key)
    assert (answer["status"], answer["error"]["code"]) == (401, -2015)
    stale = peer.signed(timestamp=sim.clock.now_ms() - 6000)
    answer = await peer.call("userDataStream.subscribe.signature", stale)
    assert (answer["status"], answer["error"]["code"]) == (400, -1021)
    windowed = peer.signed(timestamp=sim.clock.now_ms() - 6000, recvWindow=10000)
    answer = await peer.call("userDataStream.subscribe.signature", windowed)
    assert answer["status"] == 200


async def test_subscribe_with_an_ed25519_key(peer: WsApiPeer, sim: SimServer) -> None:
    private = ECC.generate(curve="ed25519")
    key = await sim.admin.register_key(
        sim.demo_account_id, ed25519_public_key_pem=private.public_key().export_key(format="PEM")
    )
    params = {"apiKey": key["apiKey"], "timestamp": sim.clock.now_ms()}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items())).encode()
    signature = base64.b64encode(eddsa.new(private, "rfc8032").sign(payload)).decode()
    answer = await peer.call(
        "userDataStream.subscribe.signature", {**params, "signature": signature}
    )
    assert (answer["status"], answer["result"]) == (200, {"subscriptionId": 0})


async def test_python_binance_user_socket(client: AsyncClient, sim: SimServer) -> None:
    manager = BinanceSocketManager(client)
    async with manager.user_socket() as socket:
        await client.create_order(
            symbol=BTC,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="90000.00",
            newClientOrderId="pb-1",
        )
        report = await asyncio.wait_for(socket.recv(), 2)
        assert (report["e"], report["c"], report["x"]) == ("executionReport", "pb-1", "NEW")
        position = await asyncio.wait_for(socket.recv(), 2)
        assert position["e"] == "outboundAccountPosition"
        await sim.admin.fund(sim.demo_account_id, "USDT", "5")
        update = await asyncio.wait_for(socket.recv(), 2)
        assert (update["e"], update["a"], update["d"]) == ("balanceUpdate", "USDT", "5.00000000")


async def collect(peer: WsApiPeer, count: int) -> list[dict[str, Any]]:
    return [(await peer.frame())["event"] for _ in range(count)]


async def test_duplicate_fault_sends_the_next_events_twice(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("duplicate", account=sim.demo_account_id, count=2)
    await sim.admin.fund(sim.demo_account_id, "USDT", "1")  # balanceUpdate + position
    await sim.admin.fund(sim.demo_account_id, "USDT", "2")
    events = await collect(peer, 6)
    assert [(e["e"], e.get("d")) for e in events] == [
        ("balanceUpdate", "1.00000000"),
        ("balanceUpdate", "1.00000000"),
        ("outboundAccountPosition", None),
        ("outboundAccountPosition", None),
        ("balanceUpdate", "2.00000000"),
        ("outboundAccountPosition", None),
    ]


async def test_reorder_fault_reverses_the_next_events(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("reorder", account=sim.demo_account_id, count=4)
    await sim.admin.fund(sim.demo_account_id, "USDT", "1")
    with pytest.raises(TimeoutError):
        await peer.frame(wait_s=0.2)  # held until four events exist
    await sim.admin.fund(sim.demo_account_id, "USDT", "2")
    events = await collect(peer, 4)
    assert [(e["e"], e.get("d")) for e in events] == [
        ("outboundAccountPosition", None),
        ("balanceUpdate", "2.00000000"),
        ("outboundAccountPosition", None),
        ("balanceUpdate", "1.00000000"),
    ]


async def test_clearing_a_reorder_releases_the_held_events(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("reorder", count=10)
    await sim.admin.fund(sim.demo_account_id, "USDT", "1")
    status = await sim.admin.call("GET", "stream")
    assert status["userEventFaults"] == [
        {"account": None, "duplicateLeft": 0, "reorderSize": 10, "held": 2}
    ]
    await sim.admin.clear_stream_faults()
    assert [e["e"] for e in await collect(peer, 2)] == ["balanceUpdate", "outboundAccountPosition"]


async def test_stall_holds_every_frame_until_resumed(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("stall", account=sim.demo_account_id)
    await sim.admin.fund(sim.demo_account_id, "USDT", "1")
    request_id = await peer.send("ping")
    with pytest.raises(TimeoutError):
        await peer.frame(wait_s=0.3)
    assert (await sim.admin.call("GET", "stream"))["stalled"] == ["ws-api-1"]
    await sim.admin.stream_fault("resume", account=sim.demo_account_id)
    assert (await peer.frame())["event"]["e"] == "balanceUpdate"
    assert (await peer.frame())["event"]["e"] == "outboundAccountPosition"
    assert (await peer.frame())["id"] == request_id


async def test_drop_cuts_the_connection(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("drop", account=sim.demo_account_id)
    message = await asyncio.wait_for(peer.ws.receive(), 2)
    assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert peer.ws.close_code != 1000


async def test_server_shutdown_event_then_close(peer: WsApiPeer, sim: SimServer) -> None:
    await peer.subscribe()
    await sim.admin.stream_fault("server_shutdown", account=sim.demo_account_id)
    frame = await peer.frame()
    assert set(frame) == {"event"}
    assert frame["event"]["e"] == "serverShutdown"
    assert abs(frame["event"]["E"] - sim.clock.now_ms()) < 1000
    message = await asyncio.wait_for(peer.ws.receive(), 2)
    assert message.type is aiohttp.WSMsgType.CLOSE


async def test_stopping_the_server_announces_server_shutdown() -> None:
    sim = SimServer(port=0, frozen_market=True)
    await sim.start()
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_api_url) as ws:
            await sim.stop()
            message = await asyncio.wait_for(ws.receive(), 2)
            assert json.loads(message.data)["event"]["e"] == "serverShutdown"
    finally:
        await sim.stop()


async def test_python_binance_recovers_from_a_drop_by_subscribing_again(
    client: AsyncClient, sim: SimServer
) -> None:
    """BINANCE.md 3: the client reports the drop, reconnects but does not re-subscribe;
    leaving and entering the user socket again subscribes afresh."""
    manager = BinanceSocketManager(client)
    async with manager.user_socket() as socket:
        await sim.admin.stream_fault("drop", account=sim.demo_account_id)
        error = await asyncio.wait_for(socket.recv(), 5)
        assert (error["e"], error["type"]) == ("error", "ConnectionClosedError")
        for _ in range(100):  # python-binance reconnects after 1-2 s
            if client.ws_api.ws_state is WSListenerState.STREAMING:
                break
            await asyncio.sleep(0.05)
        assert client.ws_api.ws_state is WSListenerState.STREAMING
        assert sim.ctx.users.connections(None) == set()  # the old subscription is gone
    async with manager.user_socket() as socket:
        await sim.admin.fund(sim.demo_account_id, "USDT", "3")
        event = await asyncio.wait_for(socket.recv(), 2)
        while event["e"] == "error":  # what the first socket's queue still held
            event = await asyncio.wait_for(socket.recv(), 2)
        assert (event["e"], event["d"]) == ("balanceUpdate", "3.00000000")


async def test_trading_over_the_websocket_api(client: AsyncClient, sim: SimServer) -> None:
    assert await client.ws_ping() == {}
    assert abs((await client.ws_get_time())["serverTime"] - sim.clock.now_ms()) < 1000
    assert await client.ws_get_symbol_ticker(symbol=BTC) == sim.exchange.ticker_price(
        {"symbol": BTC}
    )
    order = await client.ws_create_order(
        symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
        price="90000.00", newClientOrderId="wso-1",
    )  # fmt: skip
    assert (order["clientOrderId"], order["status"]) == ("wso-1", "NEW")
    queried = await client.ws_get_order(symbol=BTC, orderId=order["orderId"])
    assert queried["status"] == "NEW"
    assert [o["clientOrderId"] for o in await client.ws_get_open_orders(symbol=BTC)] == ["wso-1"]
    canceled = await client.ws_cancel_order(symbol=BTC, origClientOrderId="wso-1")
    assert canceled["status"] == "CANCELED"
    usdt = {b["asset"]: b for b in (await client.ws_get_account())["balances"]}["USDT"]
    assert usdt["free"] == "10000.00000000"
    with pytest.raises(BinanceAPIException) as caught:
        await client.ws_create_order(
            symbol="NOPE", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1",
            price="1",
        )  # fmt: skip
    assert (caught.value.status_code, caught.value.code) == (400, -1121)


async def test_websocket_orders_report_order_counts(peer: WsApiPeer, sim: SimServer) -> None:
    params = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.001", "price": "90000.00"}  # fmt: skip
    answer = await peer.call("order.place", peer.signed(**params))
    assert answer["status"] == 200, answer
    assert answer["rateLimits"][:2] == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100,
         "count": 1},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000,
         "count": 1},
    ]  # fmt: skip
    unsigned = await peer.call("order.place", {**params, "apiKey": sim.api_key})
    assert (unsigned["status"], unsigned["error"]["code"]) == (400, -1102)
