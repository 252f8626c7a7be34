"""Market streams: raw and combined sockets fed by the core, SUBSCRIBE, and stream faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from binance import AsyncClient
from binance.ws.reconnecting_websocket import ReconnectingWebsocket
from sim_testkit import socket_manager

from engine.sim.runner import SimServer

BTC = "BTCUSDT"


async def leave(socket: ReconnectingWebsocket) -> None:
    """Exit a market socket without python-binance's long waits (BINANCE.md 3)."""
    await asyncio.wait_for(socket.__aexit__(None, None, None), 5)


async def enter(socket: ReconnectingWebsocket) -> ReconnectingWebsocket:
    socket.TIMEOUT = 0.2  # its read loop notices an exit after at most this long
    await socket.__aenter__()
    return socket


async def next_payload(socket: ReconnectingWebsocket, stream_kind: str) -> dict[str, Any]:
    """The next payload of one kind (payloads of other kinds may come first)."""
    while True:
        payload: dict[str, Any] = await asyncio.wait_for(socket.recv(), 2)
        data = payload.get("data", payload)
        if stream_kind == "bookTicker" and "u" in data and "e" not in data:
            return payload
        if data.get("e") == stream_kind:
            return payload


async def test_book_ticker_socket_follows_the_market(client: AsyncClient, sim: SimServer) -> None:
    socket = await enter(socket_manager(client, sim).symbol_book_ticker_socket(BTC))
    try:
        await sim.admin.set_price(BTC, "97000.00")
        payload = await next_payload(socket, "bookTicker")
        assert set(payload) == {"u", "s", "b", "B", "a", "A"}
        book = sim.exchange.book_ticker({"symbol": BTC})
        assert (payload["s"], payload["b"], payload["a"]) == (
            BTC,
            book["bidPrice"],
            book["askPrice"],
        )
    finally:
        await leave(socket)


async def test_multiplexed_streams_are_wrapped(client: AsyncClient, sim: SimServer) -> None:
    socket = await enter(
        socket_manager(client, sim).multiplex_socket(["btcusdt@miniTicker", "ethusdt@ticker"])
    )
    try:
        await sim.admin.set_price(BTC, "96000.00")
        mini = await next_payload(socket, "24hrMiniTicker")
        assert mini["stream"] == "btcusdt@miniTicker"
        assert (mini["data"]["s"], mini["data"]["c"]) == (BTC, "96000.00000000")
        await sim.admin.set_price("ETHUSDT", "3600.00")
        ticker = await next_payload(socket, "24hrTicker")
        assert (ticker["stream"], ticker["data"]["c"]) == ("ethusdt@ticker", "3600.00000000")
    finally:
        await leave(socket)


async def test_trades_stream_reports_fills(client: AsyncClient, sim: SimServer) -> None:
    socket = await enter(socket_manager(client, sim).trade_socket(BTC))
    try:
        order = await client.order_market_buy(symbol=BTC, quantity="0.001")
        trade = await next_payload(socket, "trade")
        assert (trade["s"], trade["p"]) == (BTC, order["fills"][0]["price"])
    finally:
        await leave(socket)


class StreamPeer:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self, wait_s: float = 2.0) -> Any:
        message = await asyncio.wait_for(self.ws.receive(), wait_s)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        return json.loads(message.data)

    async def until(self, predicate: Any) -> Any:
        while True:
            found = await self.frame()
            if predicate(found):
                return found


@pytest.fixture
async def combined(sim: SimServer) -> AsyncIterator[StreamPeer]:
    url = f"{sim.stream_url}stream?streams=btcusdt@bookTicker"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        yield StreamPeer(ws)


async def test_subscribe_unsubscribe_and_list(combined: StreamPeer, sim: SimServer) -> None:
    await combined.ws.send_str(
        json.dumps({"method": "SUBSCRIBE", "params": ["ETHUSDT@miniTicker"], "id": 1})
    )
    assert await combined.until(lambda f: "id" in f) == {"result": None, "id": 1}
    await combined.ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
    assert await combined.until(lambda f: "id" in f) == {
        "result": ["btcusdt@bookTicker", "ethusdt@miniTicker"],
        "id": 2,
    }
    await sim.admin.set_price("ETHUSDT", "3400.00")
    mini = await combined.until(lambda f: f.get("stream") == "ethusdt@miniTicker")
    assert mini["data"]["c"] == "3400.00000000"
    await combined.ws.send_str(
        json.dumps({"method": "UNSUBSCRIBE", "params": ["ethusdt@miniTicker"], "id": 3})
    )
    assert await combined.until(lambda f: "id" in f) == {"result": None, "id": 3}
    await combined.ws.send_str(json.dumps({"method": "FLY", "id": 4}))
    assert (await combined.until(lambda f: "code" in f))["code"] == 2


async def test_market_stall_resume_drop_and_shutdown(combined: StreamPeer, sim: SimServer) -> None:
    await sim.admin.stream_fault("stall", target="market")
    await sim.admin.set_price(BTC, "95500.00")
    with pytest.raises(TimeoutError):
        await combined.frame(wait_s=0.3)
    await sim.admin.stream_fault("resume", target="market")
    assert (await combined.frame())["stream"] == "btcusdt@bookTicker"
    await sim.admin.stream_fault("server_shutdown", target="market")
    shutdown = await combined.frame()
    assert (shutdown["stream"], shutdown["data"]["e"]) == ("!serverShutdown", "serverShutdown")
    closing = await asyncio.wait_for(combined.ws.receive(), 2)
    assert closing.type is aiohttp.WSMsgType.CLOSE


async def test_market_drop(sim: SimServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{sim.stream_url}ws/btcusdt@trade") as ws,
    ):
        await sim.admin.stream_fault("drop", target="market")
        message = await asyncio.wait_for(ws.receive(), 2)
        assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_raw_server_shutdown_has_no_wrapper(sim: SimServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{sim.stream_url}ws/btcusdt@trade") as ws,
    ):
        await sim.admin.stream_fault("server_shutdown", target="market")
        message = await asyncio.wait_for(ws.receive(), 2)
        assert json.loads(message.data)["e"] == "serverShutdown"
