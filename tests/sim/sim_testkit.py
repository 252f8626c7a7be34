"""Helpers for the tests of the embedded exchange: python-binance pointed at a sim, raw wire."""

from __future__ import annotations

import hashlib
import hmac
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yarl

from engine.sim.core.clock import SkewedClock, SystemClock
from engine.sim.runner import SimServer

with warnings.catch_warnings():
    # python-binance 1.0.37 imports a name websockets 17 deprecates; the warning is not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, BinanceSocketManager

SIM_API_KEY = "SimTestKey0000000000000000000000000000000000000000000000000000001"
SIM_API_SECRET = "SimTestSecret00000000000000000000000000000000000000000000000000001"
SIM_SEED = 7


def loopback_client_class(sim: SimServer) -> type[AsyncClient]:
    """An AsyncClient subclass whose URLs point at the sim (BINANCE.md 1.1, recipe A)."""
    attributes: dict[str, Any] = {
        "API_URL": f"{sim.url}/api",
        "MARGIN_API_URL": f"{sim.url}/sapi",
        "WS_API_URL": sim.ws_api_url,
        "REQUEST_RECVWINDOW": 5000,
    }
    return type("LoopbackClient", (AsyncClient,), attributes)


async def connect_client(
    sim: SimServer,
    api_key: str | None = None,
    api_secret: str | None = None,
    **kwargs: Any,
) -> AsyncClient:
    """`LoopbackClient.create(...)`: pings, syncs the clock offset; close with close_connection."""
    client_class = loopback_client_class(sim)
    key = api_key if api_key is not None else sim.api_key
    secret = api_secret if api_secret is not None or "private_key" in kwargs else sim.api_secret
    client: AsyncClient = await client_class.create(key, secret, **kwargs)
    # The WebSocket API's read loop waits TIMEOUT seconds for a frame before it notices it
    # should exit (issue #1584); 1 s keeps closing quick and is ample on loopback.
    client.ws_api.TIMEOUT = 1
    return client


def socket_manager(client: AsyncClient, sim: SimServer) -> BinanceSocketManager:
    """A BinanceSocketManager whose market streams come from the sim."""
    manager = BinanceSocketManager(client, max_queue_size=1000)
    manager.STREAM_URL = sim.stream_url
    return manager


def minute_aligned_clock() -> SkewedClock:
    """Real time, shifted so that it reads 100 ms past a whole minute now."""
    real = SystemClock()
    return SkewedClock(real, 60_000 - real.now_ms() % 60_000 + 100)


class RawWire:
    """Plain aiohttp requests to the sim, HMAC-signed like any client, for exact wire checks."""

    def __init__(self, sim: SimServer, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session

    def sign(self, params: dict[str, str], secret: str | None = None) -> str:
        """`k=v&...&timestamp=...&signature=...` over the percent-encoded pairs."""
        query = urlencode({**params, "timestamp": str(self.sim.clock.now_ms())})
        key = (secret if secret is not None else self.sim.api_secret).encode()
        return f"{query}&signature={hmac.new(key, query.encode(), hashlib.sha256).hexdigest()}"

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        signed: bool = False,
        api_key: str | None = None,
        in_body: bool = False,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """(status, JSON body, headers).

        Signed requests carry the demo key, or `api_key` ("" sends no key header).
        """
        query = self.sign(params or {}) if signed else urlencode(params or {})
        headers: dict[str, str] = {}
        key = self.sim.api_key if api_key is None else api_key
        if signed and key:
            headers["X-MBX-APIKEY"] = key
        url = f"{self.sim.url}{path}"
        data: str | None = None
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = query
        elif query:
            url = f"{url}?{query}"
        async with self.session.request(
            method, yarl.URL(url, encoded=True), data=data, headers=headers
        ) as response:
            body = await response.json(content_type=None)
            return response.status, body, response.headers
