"""Market stream endpoints: raw /ws/<stream> and combined /stream?streams=a/b, with SUBSCRIBE."""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

from engine.sim.server.connection import FrameConnection
from engine.sim.server.context import SimContext
from engine.sim.server.wsapi import PING_INTERVAL_S


class MarketStreams:
    """The aiohttp handler of /ws/... and /stream; connections register with the MarketHub."""

    def __init__(self, ctx: SimContext) -> None:
        self._ctx = ctx
        self._numbers = itertools.count(1)

    async def handle_raw(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info.get("streams", "")
        return await self._serve(request, combined=False, streams=_split(tail))

    async def handle_combined(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request, combined=True, streams=_split(request.query.get("streams", ""))
        )

    async def _serve(
        self, request: web.Request, *, combined: bool, streams: list[str]
    ) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S)
        await ws.prepare(request)
        conn = FrameConnection(ws, request.transport, name=f"stream-{next(self._numbers)}")
        conn.start()
        hub = self._ctx.markets
        hub.add(conn, combined, streams)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._control(conn, message.data)
        finally:
            hub.remove(conn)
            await conn.finish()
        return ws

    def _control(self, conn: FrameConnection, text: str) -> None:
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS messages, answered like Binance."""
        try:
            request = json.loads(text)
        except ValueError:
            conn.send(json.dumps({"code": 3, "msg": "Invalid JSON: expected value"}))
            return
        if not isinstance(request, dict):
            conn.send(json.dumps({"code": 3, "msg": "Invalid JSON: expected an object"}))
            return
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params", [])
        hub = self._ctx.markets
        result: Any = None
        if method == "SUBSCRIBE" and _names(params):
            hub.subscribe(conn, params)
        elif method == "UNSUBSCRIBE" and _names(params):
            hub.unsubscribe(conn, params)
        elif method == "LIST_SUBSCRIPTIONS":
            result = hub.streams(conn)
        else:
            conn.send(
                json.dumps(
                    {
                        "code": 2,
                        "msg": f"Invalid request: unknown method {method}",
                        "id": request_id,
                    }
                )
            )
            return
        conn.send(json.dumps({"result": result, "id": request_id}))


def _split(streams: str) -> list[str]:
    return [name for name in streams.split("/") if name]


def _names(params: Any) -> bool:
    return isinstance(params, list) and all(isinstance(p, str) for p in params)
