"""Wires the wire server's parts into one aiohttp application on one port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from engine.sim.server.admin import AdminApi
from engine.sim.server.context import SimContext
from engine.sim.server.markets import shutdown_frame as market_shutdown_frame
from engine.sim.server.rest import RestApi, json_response
from engine.sim.server.streams import MarketStreams
from engine.sim.server.wsapi import WsApi
from engine.sim.server.wsapi import shutdown_frame as ws_api_shutdown_frame

WsHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: WsHandler) -> web.StreamResponse:
    """aiohttp's own 404/405 answers in JSON, as Binance answers everything."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return json_response(404, {"code": -1099, "msg": "Not found, authenticated, or authorized"})
    except web.HTTPMethodNotAllowed:
        return json_response(405, {"code": -1020, "msg": "This operation is not supported."})


@dataclass
class SimApp:
    """The application and the parts the runner talks to."""

    app: web.Application
    ws_api: WsApi
    ctx: SimContext

    def announce_shutdown(self) -> None:
        """Send serverShutdown on every WebSocket and close them (a planned server stop)."""
        now = self.ctx.clock.now_ms()
        for conn in self.ws_api.connections(None):
            conn.shutdown(ws_api_shutdown_frame(now))
        markets = self.ctx.markets
        for conn in markets.connections():
            conn.shutdown(market_shutdown_frame(now, markets.is_combined(conn)))


def build_app(ctx: SimContext, reset: Callable[[], None]) -> SimApp:
    """REST under /api and /sapi, the WebSocket API, market streams and the admin API."""
    app = web.Application(middlewares=[json_errors])
    rest = RestApi(ctx)
    ws_api = WsApi(ctx)
    streams = MarketStreams(ctx)
    admin = AdminApi(ctx, ws_api, reset)
    app.router.add_get("/ws-api/v3", ws_api.handle)
    app.router.add_get("/ws/{streams:.*}", streams.handle_raw)
    app.router.add_get("/stream", streams.handle_combined)
    app.add_routes(admin.routes())
    app.router.add_route("*", "/api/{tail:.*}", rest.handle)
    app.router.add_route("*", "/sapi/{tail:.*}", rest.handle)
    return SimApp(app, ws_api, ctx)
