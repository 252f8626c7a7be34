"""Market stream fan-out: the core's market events to /ws and /stream WebSocket connections."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from engine.sim.server.connection import FrameConnection

log = logging.getLogger(__name__)


class MarketEventSource(Protocol):
    def add_market_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> int: ...
    def remove_market_listener(self, token: int) -> None: ...


def normalize_stream(name: str) -> str:
    """Binance stream names carry the symbol in lowercase: `btcusdt@bookTicker`."""
    symbol, sep, kind = name.partition("@")
    return f"{symbol.lower()}{sep}{kind}"


def shutdown_frame(now_ms: int, combined: bool) -> str:
    """The serverShutdown event in the raw or the combined (`!serverShutdown`) form."""
    event = {"e": "serverShutdown", "E": now_ms}
    if combined:
        return json.dumps({"stream": "!serverShutdown", "data": event})
    return json.dumps(event)


class MarketHub:
    """Routes each (stream, payload) from the core to the connections listening to that stream.

    It listens to the core only while a market connection is open: the core builds market
    payloads only for listeners, and order-heavy runs without streams should not pay for them.
    """

    def __init__(self, exchange: MarketEventSource) -> None:
        self._exchange = exchange
        # stream name -> {connection: combined?}
        self._by_stream: dict[str, dict[FrameConnection, bool]] = {}
        self._by_connection: dict[FrameConnection, tuple[bool, list[str]]] = {}
        self._token: int | None = None

    def attach(self, exchange: MarketEventSource) -> None:
        listening = self._token is not None
        self._stop_listening()
        self._exchange = exchange
        if listening:
            self._token = exchange.add_market_listener(self._on_event)

    def _stop_listening(self) -> None:
        if self._token is not None:
            self._exchange.remove_market_listener(self._token)
            self._token = None

    def close(self) -> None:
        self._stop_listening()

    def add(self, conn: FrameConnection, combined: bool, streams: list[str]) -> None:
        if self._token is None:
            self._token = self._exchange.add_market_listener(self._on_event)
        self._by_connection[conn] = (combined, [])
        self.subscribe(conn, streams)

    def subscribe(self, conn: FrameConnection, streams: list[str]) -> None:
        combined, names = self._by_connection[conn]
        for raw_name in streams:
            name = normalize_stream(raw_name)
            if name not in names:
                names.append(name)
                self._by_stream.setdefault(name, {})[conn] = combined

    def unsubscribe(self, conn: FrameConnection, streams: list[str]) -> None:
        _, names = self._by_connection[conn]
        for raw_name in streams:
            name = normalize_stream(raw_name)
            if name in names:
                names.remove(name)
                listeners = self._by_stream.get(name, {})
                listeners.pop(conn, None)
                if not listeners:
                    self._by_stream.pop(name, None)

    def streams(self, conn: FrameConnection) -> list[str]:
        return list(self._by_connection[conn][1])

    def is_combined(self, conn: FrameConnection) -> bool:
        return self._by_connection[conn][0]

    def remove(self, conn: FrameConnection) -> None:
        if conn in self._by_connection:
            self.unsubscribe(conn, self.streams(conn))
            del self._by_connection[conn]
        if not self._by_connection:
            self._stop_listening()

    def connections(self) -> list[FrameConnection]:
        return list(self._by_connection)

    def _on_event(self, stream: str, payload: dict[str, Any]) -> None:
        listeners = self._by_stream.get(stream)
        if not listeners:
            return
        try:
            raw = json.dumps(payload, separators=(",", ":"))
            wrapped = f'{{"stream":{json.dumps(stream)},"data":{raw}}}'
            for conn, combined in list(listeners.items()):
                conn.send(wrapped if combined else raw)
        except Exception:  # a listener must never break the exchange that calls it
            log.exception("market event delivery failed for %s", stream)
