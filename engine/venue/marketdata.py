"""Marks for valuation: one multiplexed market-stream socket feeding a latest-price store.

Streams `<sym>@bookTicker` (best bid/ask) and `<sym>@miniTicker` (last price) for every symbol on
one socket, read with a queue of at least 1000 frames. Silence past the stall bound, an error frame
or a closed read loop replaces the socket (the supervisor's loop); marks older than a bound are
reported stale by the store, so a dead feed never looks like a quiet market.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.venue.client import StreamSocket
from engine.venue.health import StreamStatus
from engine.venue.supervisor import Reconnect, StreamSupervisor, SupervisorConfig
from engine.venue.timing import Clock

log = logging.getLogger(__name__)

MIN_QUEUE_SIZE = 1000
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Mark:
    """The latest prices of a symbol; `at` is when this process received them."""

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    at: datetime
    received_mono: float

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def price(self) -> Decimal | None:
        """The mid when both sides are known, else the last trade price."""
        mid = self.mid
        return mid if mid is not None else self.last


class MarkStore:
    """Latest mark per symbol (upper case)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._marks: dict[str, Mark] = {}

    def update(
        self,
        symbol: str,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
        last: Decimal | None = None,
    ) -> Mark:
        """Merge new values into the symbol's mark; zero prices (an empty book side) are None."""
        symbol = symbol.upper()
        now, mono = self._clock.now(), self._clock.monotonic()
        old = self._marks.get(symbol)
        if old is None:
            mark = Mark(symbol, _positive(bid), _positive(ask), _positive(last), now, mono)
        else:
            changes: dict[str, Any] = {"at": now, "received_mono": mono}
            if bid is not None or ask is not None:
                changes["bid"] = _positive(bid)
                changes["ask"] = _positive(ask)
            if last is not None:
                changes["last"] = _positive(last)
            mark = replace(old, **changes)
        self._marks[symbol] = mark
        return mark

    def get(self, symbol: str) -> Mark | None:
        return self._marks.get(symbol.upper())

    def fresh(self, symbol: str, max_age_s: float) -> Mark | None:
        """The mark if it is younger than `max_age_s`, else None (missing or stale)."""
        mark = self._marks.get(symbol.upper())
        if mark is None or self._clock.monotonic() - mark.received_mono > max_age_s:
            return None
        return mark

    def stale(self, symbols: Iterable[str], max_age_s: float) -> list[str]:
        """The symbols among `symbols` without a fresh mark."""
        return [s.upper() for s in symbols if self.fresh(s, max_age_s) is None]


class MarketStreamSupervisor(StreamSupervisor[StreamSocket]):
    """Keeps the mark socket alive and the store current."""

    stream_name = "market"

    def __init__(
        self,
        stream_url: str,
        symbols: Iterable[str],
        store: MarkStore,
        *,
        clock: Clock,
        rng: random.Random,
        config: SupervisorConfig | None = None,
        on_status: Callable[[StreamStatus], None] | None = None,
        on_mark: Callable[[Mark], None] | None = None,
        with_last_price: bool = True,
        max_queue_size: int = MIN_QUEUE_SIZE,
    ) -> None:
        super().__init__(
            clock=clock, rng=rng, config=config or SupervisorConfig(), on_status=on_status
        )
        if not stream_url.endswith("/"):
            raise ValueError("the stream URL must end with '/'")
        if max_queue_size < MIN_QUEUE_SIZE:
            raise ValueError(f"max_queue_size must be at least {MIN_QUEUE_SIZE}")
        names = sorted({s.lower() for s in symbols})
        if not names:
            raise ValueError("no symbols to stream")
        streams = [f"{s}@bookTicker" for s in names]
        if with_last_price:
            streams += [f"{s}@miniTicker" for s in names]
        self._url = stream_url
        self._path = "streams=" + "/".join(streams)
        self._store = store
        self._on_mark = on_mark
        self._max_queue_size = max_queue_size

    async def _open(self) -> StreamSocket:
        # Built directly rather than through BinanceSocketManager.multiplex_socket (same URL
        # shape, `<url>stream?streams=a/b`) so that closing can cancel its read loop.
        sock = StreamSocket(
            url=self._url, path=self._path, prefix="stream?", max_queue_size=self._max_queue_size
        )
        try:
            await sock.__aenter__()
        except BaseException:
            await sock.aclose()
            raise
        return sock

    async def _recv(self, handle: StreamSocket) -> Any:
        return await handle.recv()

    async def _close(self, handle: StreamSocket, *, graceful: bool) -> None:
        await handle.aclose()

    def _handle_frame(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            return
        if frame.get("e") == "error":
            raise Reconnect(f"connection error {frame.get('type', '')}".strip())
        data = frame.get("data", frame)
        if not isinstance(data, dict):
            return
        if data.get("e") == "serverShutdown":
            raise Reconnect("server shutdown announced", planned=True)
        self._mark_event()
        try:
            mark = self._apply(data)
        except (InvalidOperation, TypeError, ValueError, KeyError) as exc:
            log.warning("market stream: unreadable frame (%s)", type(exc).__name__)
            return
        if mark is not None and self._on_mark is not None:
            self._on_mark(mark)

    def _apply(self, data: dict[str, Any]) -> Mark | None:
        symbol = data.get("s")
        if not isinstance(symbol, str):
            return None
        if data.get("e") == "24hrMiniTicker":
            return self._store.update(symbol, last=_decimal(data["c"]))
        if "b" in data and "a" in data and "e" not in data:
            return self._store.update(symbol, bid=_decimal(data["b"]), ask=_decimal(data["a"]))
        return None


def _decimal(raw: Any) -> Decimal:
    # Binance sends prices as strings; a float here would already have lost digits.
    if not isinstance(raw, str):
        raise TypeError("price is not a string")
    return Decimal(raw)


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > _ZERO else None
