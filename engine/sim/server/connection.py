"""An outgoing WebSocket frame queue with the stream faults: stall, resume, drop, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

log = logging.getLogger(__name__)

# A client that stops reading would otherwise make the server hold frames forever; Binance
# disconnects slow consumers too.
MAX_BACKLOG = 200_000


class FrameConnection:
    """Serialises every frame sent on one WebSocket through a single writer task.

    A stall holds frames (the socket stays open and keeps answering pings) until `resume`;
    `drop` aborts the TCP connection without a close frame; `shutdown` sends a last frame
    (serverShutdown) and then closes cleanly.
    """

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, *, name: str
    ) -> None:
        self.ws = ws
        self.name = name
        self._transport = transport
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writer: asyncio.Task[None] | None = None
        self.closed = False

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.name}")
        self._writer.add_done_callback(_log_failure)

    @property
    def stalled(self) -> bool:
        return not self._flowing.is_set()

    def send(self, frame: str) -> None:
        """Queue a text frame; never blocks."""
        if self.closed:
            return
        if self._queue.qsize() >= MAX_BACKLOG:
            log.warning("closing %s: %d frames not read", self.name, MAX_BACKLOG)
            self.drop()
            return
        self._queue.put_nowait(frame)

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def drop(self) -> None:
        """Cut the connection abruptly, as a network failure would."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
        if isinstance(self._transport, asyncio.WriteTransport):
            self._transport.abort()

    def shutdown(self, last_frame: str | None) -> None:
        """Send `last_frame` (if any) after the frames already queued, then close cleanly."""
        if self.closed:
            return
        if last_frame is not None:
            self._queue.put_nowait(last_frame)
        self.closed = True
        self._queue.put_nowait(None)
        self._flowing.set()

    async def _write_loop(self) -> None:
        while True:
            frame = await self._queue.get()
            await self._flowing.wait()
            if frame is None:
                break
            try:
                await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                self.closed = True
                return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close()

    async def finish(self) -> None:
        """Stop the writer once the peer is gone (the handler's receive loop ended)."""
        self.closed = True
        if self._writer is not None and not self._writer.done():
            self._queue.put_nowait(None)
            self._flowing.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), timeout=1.0)
            except TimeoutError:
                self._writer.cancel()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("WebSocket writer failed", exc_info=task.exception())
