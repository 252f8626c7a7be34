"""Records every outgoing connection attempt of this process and refuses any beyond loopback.

Three levels, so no path slips through: aiohttp's `ClientSession._request` (the URL, before any
resolver), the event loop's `getaddrinfo` and `create_connection` (aiohttp's resolver, the
`websockets` library python-binance streams with), and the blocking `socket` functions.
Imported by name (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Connections:
    """Host names this process tried to reach, in order (loopback ones included)."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def note(self, host: object) -> None:
        if host is None:
            return
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.hosts.append(name)
        if name not in LOOPBACK:
            raise ConnectionRefusedError(f"test refuses to connect to {name}")

    @property
    def remote(self) -> set[str]:
        return {host for host in self.hosts if host not in LOOPBACK}


def install(monkeypatch: pytest.MonkeyPatch) -> Connections:
    """Patch every level for the rest of the test (undone by monkeypatch)."""
    seen = Connections()
    loop_class = asyncio.base_events.BaseEventLoop
    real_request = aiohttp.ClientSession._request
    real_getaddrinfo = loop_class.getaddrinfo
    real_create = loop_class.create_connection
    real_sync_getaddrinfo = socket.getaddrinfo
    real_sync_create = socket.create_connection

    async def request(self: aiohttp.ClientSession, method: str, url: Any, **kw: Any) -> Any:
        if not isinstance(self.connector, aiohttp.UnixConnector):  # the control socket is local
            seen.note(urlsplit(str(url)).hostname)
        return await real_request(self, method, url, **kw)

    async def getaddrinfo(self: Any, host: Any, *args: Any, **kw: Any) -> Any:
        try:
            seen.note(host)
        except ConnectionRefusedError as refused:
            raise socket.gaierror(socket.EAI_NONAME, str(refused)) from None
        return await real_getaddrinfo(self, host, *args, **kw)

    async def create_connection(
        self: Any, factory: Any, host: Any = None, *a: Any, **kw: Any
    ) -> Any:
        seen.note(host)
        return await real_create(self, factory, host, *a, **kw)

    def sync_getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        seen.note(host)
        return real_sync_getaddrinfo(host, *args, **kw)

    def sync_create(address: Any, *args: Any, **kw: Any) -> Any:
        seen.note(address[0])
        return real_sync_create(address, *args, **kw)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", request)
    monkeypatch.setattr(loop_class, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(loop_class, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", sync_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", sync_create)
    return seen
