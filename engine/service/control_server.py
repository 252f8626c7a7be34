"""The control server: an engine served over HTTP and a WebSocket on a private Unix socket.

Routes (all JSON):
- `GET /health`: who answers (pid, mode, account, socket, ...); cheap, used to probe.
- `GET /snapshot`: the engine's snapshot, with `seq`, the last event it includes.
- `POST /command` `{"name": ..., "args": {...}}`: a `CommandResult` as JSON.
- `GET /events?since=N&limit=M`: events with seq > N up to the snapshot's seq, at most M.
- `GET /stream?since=N` (WebSocket): events with seq > N in order, then live ones, one JSON
  object per message, each with its `seq`. A subscriber that falls `queue_limit` events behind
  is disconnected (close code 4008) and resumes from its last seq; it never slows the engine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

from aiohttp import WSCloseCode, web

from engine.core.jsonable import same_text_fast
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.audit import Operator, peer_operator
from engine.service.control_socket import bind_private_socket, unlink_own_socket

log = logging.getLogger(__name__)

SNAPSHOT_SEQ_KEY = "seq"
SLOW_SUBSCRIBER_CLOSE = 4008
DEFAULT_QUEUE_LIMIT = 1024
DEFAULT_REPLAY_LIMIT = 1000
MAX_REPLAY_LIMIT = 10_000
_HEARTBEAT_S = 15.0
_ENCODED_KEPT = 4096  # recent events' texts, shared by the subscribers that follow live
_CLOSE_TIMEOUT_S = 1.0


class Served(Protocol):
    """What the server needs of an engine: an `EngineClient` without `close` (the server never
    closes what it serves; the engine's owner does)."""

    async def snapshot(self) -> dict[str, Any]: ...

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]: ...

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult: ...


class ControlServer:
    """Serves `client` on `socket_path` until `stop()`; `identity` is echoed by `/health`.

    `on_stop_requested` is called once a StopEngine command returns OK, so the process that
    owns the engine can shut down after the answer has gone out.
    """

    def __init__(
        self,
        client: Served,
        socket_path: pathlib.Path,
        *,
        identity: Mapping[str, Any] | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        on_stop_requested: Callable[[], None] | None = None,
    ) -> None:
        if queue_limit < 1:
            raise ValueError("queue_limit must be at least 1")
        self.socket_path = socket_path
        self._client = client
        self._identity = {"pid": os.getpid(), "socket": str(socket_path), **(identity or {})}
        self._queue_limit = queue_limit
        self._on_stop_requested = on_stop_requested
        self._runner: web.AppRunner | None = None
        self._inode: int | None = None
        self._streams: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._encoded = _EncodedEvents(_ENCODED_KEPT)
        self.disconnected_slow = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._streams)

    # life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket (removing a stale one) and serve; EngineAlreadyRunning if taken."""
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/snapshot", self._snapshot)
        app.router.add_post("/command", self._command)
        app.router.add_get("/events", self._events)
        app.router.add_get("/stream", self._stream)
        sock, inode = await asyncio.to_thread(bind_private_socket, self.socket_path)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        try:
            await runner.setup()
            await web.SockSite(runner, sock).start()
        except BaseException:
            await runner.cleanup()
            sock.close()
            await asyncio.to_thread(unlink_own_socket, self.socket_path, inode)
            raise
        self._runner, self._inode = runner, inode

    async def stop(self) -> None:
        """Close every stream (1001, going away), finish running commands, remove the socket."""
        for ws in list(self._streams):
            await _close_ws(ws, WSCloseCode.GOING_AWAY, "engine stopping")
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._inode is not None:
            await asyncio.to_thread(unlink_own_socket, self.socket_path, self._inode)
            self._inode = None

    # routes ----------------------------------------------------------------------------------

    async def _health(self, _request: web.Request) -> web.Response:
        return _json(self._identity)

    async def _snapshot(self, _request: web.Request) -> web.Response:
        return _json(await self._client.snapshot())

    async def _command(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            name = CommandName(body["name"])
            args = body.get("args") or {}
            if not isinstance(args, dict):
                raise TypeError("args must be an object")
        except (ValueError, KeyError, TypeError) as error:
            usage = CommandResult(Outcome.USAGE, f"malformed command: {_reason(error)}")
            return _json(usage.to_json(), status=400)
        # Who sent it, for the audit trail: what the client says, else what the kernel knows.
        transport = request.transport
        who = Operator.from_json(body.get("who")) or peer_operator(
            transport.get_extra_info("socket") if transport is not None else None
        )
        # The command runs to its end even if the caller goes away: an order half sent and
        # then abandoned would leave an outcome nobody settles.
        task = self._keep(asyncio.create_task(self._run_command(name, args, who)))
        result = await asyncio.shield(task)
        return _json(result.to_json())

    async def _run_command(
        self, name: CommandName, args: dict[str, Any], who: Operator
    ) -> CommandResult:
        # An engine audits who gave the command (engine/service/audit.py); a served object
        # without `command_from` (a test's fake) just runs it.
        command_from = getattr(self._client, "command_from", None)
        try:
            if command_from is not None:
                result: CommandResult = await command_from(who, name, args)
            else:
                result = await self._client.command(name, args)
        except Exception as error:
            log.exception("command %s failed inside the engine", name.value)
            # It may have gone out before the failure, so the honest answer is "unknown".
            return CommandResult(
                Outcome.UNKNOWN,
                f"the engine failed while running {name.value} ({error.__class__.__name__}); "
                "check `spotdesk status` before trying again",
            )
        if name is CommandName.STOP_ENGINE and result.ok and self._on_stop_requested:
            self._on_stop_requested()
        return result

    async def _events(self, request: web.Request) -> web.Response:
        try:
            since = _int_param(request, "since", 0)
            limit = min(_int_param(request, "limit", DEFAULT_REPLAY_LIMIT), MAX_REPLAY_LIMIT)
            if since < 0 or limit < 1:
                raise ValueError("since must be >= 0 and limit >= 1")
        except ValueError as error:
            return _json({"error": str(error)}, status=400)
        snapshot = await self._client.snapshot()
        top = int(snapshot[SNAPSHOT_SEQ_KEY])
        found: list[dict[str, Any]] = []
        if top > since:
            events = self._client.events(since)
            try:
                async for event in events:
                    found.append(event)
                    if int(event["seq"]) >= top or len(found) >= limit:
                        break
            finally:
                await _aclose(events)
        last = int(found[-1]["seq"]) if found else since
        return _json({"events": found, "last_seq": last, "more": last < top})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        try:
            since = _int_param(request, "since", 0)
        except ValueError as error:
            return _json({"error": str(error)}, status=400)
        ws = web.WebSocketResponse(heartbeat=_HEARTBEAT_S)
        await ws.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_limit)
        self._streams.add(ws)
        pump = self._keep(asyncio.create_task(self._pump(since, queue, ws)))
        writer = self._keep(asyncio.create_task(_write(queue, ws)))
        try:
            async for _message in ws:
                pass  # subscribers have nothing to say; reading keeps pings and close working
        finally:
            self._streams.discard(ws)
            pump.cancel()
            writer.cancel()
            await asyncio.wait([pump, writer])
        return ws

    async def _pump(self, since: int, queue: asyncio.Queue[str], ws: web.WebSocketResponse) -> None:
        """Move events into this subscriber's bounded queue; on overflow, drop the subscriber.

        However the engine's stream ends (stopped, failed, overflowed) the WebSocket is closed,
        so the subscriber knows to reconnect and resume from its last seq.
        """
        code: int = WSCloseCode.GOING_AWAY
        reason = "the engine's event stream ended"
        slow = False
        events: AsyncIterator[dict[str, Any]] | None = None
        try:
            events = self._client.events(since)
            async for event in events:
                try:
                    queue.put_nowait(self._encoded.text(event))
                except asyncio.QueueFull:
                    self.disconnected_slow += 1
                    log.warning("a stream subscriber fell %d events behind; dropped", queue.maxsize)
                    code, reason = SLOW_SUBSCRIBER_CLOSE, "too slow; resume from your last seq"
                    slow = True
                    break
        except Exception:
            log.exception("the engine's event stream failed")
            code, reason = WSCloseCode.INTERNAL_ERROR, "the engine's event stream failed"
        finally:
            if events is not None:
                await _aclose(events)
        if not slow:
            await queue.join()  # what was queued goes out before the close
        await _close_ws(ws, code, reason)

    def _keep(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a control server task failed", exc_info=task.exception())


class _EncodedEvents:
    """Each live event's JSON text, written once for all subscribers: the hub hands every
    subscriber the same dict, so the text is found by seq and checked to be of that very dict
    (a replayed event is a new dict and is simply written again)."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._texts: collections.OrderedDict[Any, tuple[dict[str, Any], str]] = (
            collections.OrderedDict()
        )

    def text(self, event: dict[str, Any]) -> str:
        seq = event.get("seq")
        known = self._texts.get(seq)
        if known is not None and known[0] is event:
            return known[1]
        text = event_text(event)
        self._texts[seq] = (event, text)
        if len(self._texts) > self._kept:
            self._texts.popitem(last=False)
        return text


def event_text(event: dict[str, Any]) -> str:
    """An event as one WebSocket message: the text `json.dumps(event, separators=(",", ":"))`
    writes (by orjson when that gives the same text)."""
    return same_text_fast(event, _dumps)


async def _write(queue: asyncio.Queue[str], ws: web.WebSocketResponse) -> None:
    while True:
        text = await queue.get()
        try:
            await ws.send_str(text)
        finally:
            queue.task_done()


async def _close_ws(ws: web.WebSocketResponse, code: int, message: str) -> None:
    """Close politely; if the peer does not even take the close frame, cut the connection."""
    try:
        await asyncio.wait_for(ws.close(code=code, message=message.encode()), _CLOSE_TIMEOUT_S)
    except (TimeoutError, ConnectionError):
        _abort(ws)


def _abort(ws: web.WebSocketResponse) -> None:
    request = ws._req  # aiohttp keeps no public handle on the transport of a prepared response
    transport = request.transport if request is not None else None
    if transport is not None:
        transport.abort()


async def _aclose(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a non-negative integer, not {raw!r}")
    return int(raw)


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing {error.args[0]!r}"
    return str(error) or error.__class__.__name__


def _json(body: Any, *, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))
