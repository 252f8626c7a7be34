"""`SocketEngineClient`: the `EngineClient` of an engine in another process, over its socket.

Commands are sent once and never retried: if the answer is lost after sending, the result is
`Outcome.UNKNOWN` (the engine settles it; the caller checks the status). Reads fail with
`EngineNotRunning` when nothing answers. `events()` reconnects by itself and resumes after the
last seq it yielded, so its consumer sees every event once, in order.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.audit import Operator, this_process
from engine.service.control_errors import ControlError, ControlProtocolError, EngineNotRunning

_BASE_URL = "http://spotdesk-engine"
_READ_TIMEOUT_S = 10.0
# A command may wait on the exchange (timeouts of several seconds, a queried outcome); the
# engine answers UNKNOWN itself long before this.
_COMMAND_TIMEOUT_S = 120.0
_STREAM_HEARTBEAT_S = 15.0


class SocketEngineClient:
    """Talks to the engine listening on `socket_path`; close it with `close()`.

    `events()` gives up with EngineNotRunning after `max_reconnects` reconnections in a row
    that delivered nothing, waiting `retry_initial_s` doubled each time up to `retry_max_s`.
    """

    def __init__(
        self,
        socket_path: pathlib.Path,
        *,
        max_reconnects: int = 20,
        retry_initial_s: float = 0.05,
        retry_max_s: float = 2.0,
        operator: Operator | None = None,
    ) -> None:
        self.socket_path = socket_path
        # Sent with every command for the audit trail: this process's user and terminal.
        self.operator = operator or this_process()
        self._max_reconnects = max_reconnects
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SocketEngineClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # A fresh connection per request: a kept-alive one the engine closed in between
            # would make a command look lost when it was never read.
            connector = aiohttp.UnixConnector(path=str(self.socket_path), force_close=True)
            self._session = aiohttp.ClientSession(_BASE_URL, connector=connector)
        return self._session

    # reads -----------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """Who answers: pid, mode, account, socket and what else the engine says about itself."""
        return _mapping(await self._get("/health", {}), "health")

    async def snapshot(self) -> dict[str, Any]:
        return _mapping(await self._get("/snapshot", {}), "snapshot")

    async def replay(self, since_seq: int, limit: int = 1000) -> tuple[list[dict[str, Any]], bool]:
        """Events after `since_seq` up to the current one (at most `limit`), and whether more."""
        body = _mapping(
            await self._get("/events", {"since": str(since_seq), "limit": str(limit)}), "events"
        )
        return list(body["events"]), bool(body["more"])

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        timeout = aiohttp.ClientTimeout(total=_READ_TIMEOUT_S)
        try:
            async with self._http().get(path, params=params, timeout=timeout) as response:
                if response.status != 200:
                    raise ControlProtocolError(f"GET {path}: HTTP {response.status}")
                return await response.json()
        except aiohttp.ClientConnectorError as error:
            raise EngineNotRunning(self.socket_path, _why(error)) from None
        except TimeoutError:
            raise ControlError(
                f"the engine on {self.socket_path} did not answer within {_READ_TIMEOUT_S:g} s"
            ) from None
        except (aiohttp.ClientError, ValueError) as error:
            raise ControlProtocolError(f"GET {path}: {_why(error)}") from None

    # commands --------------------------------------------------------------------------------

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        """Send one command and return its result; never resent, even when the answer is lost."""
        timeout = aiohttp.ClientTimeout(total=_COMMAND_TIMEOUT_S)
        body = {"name": name.value, "args": args, "who": self.operator.to_json()}
        try:
            async with self._http().post("/command", json=body, timeout=timeout) as response:
                raw = await response.json()
                return CommandResult.from_json(raw)
        except aiohttp.ClientConnectorError as error:
            raise EngineNotRunning(self.socket_path, _why(error)) from None
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as error:
            return CommandResult(
                Outcome.UNKNOWN,
                f"{name.value} was sent to the engine but its answer was lost ({_why(error)}); "
                "check with: spotdesk status",
            )

    # events ----------------------------------------------------------------------------------

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        """Events with seq > since_seq, in order, then live ones; reconnects and resumes."""
        last_seq = since_seq
        quiet_reconnects = 0
        while True:
            delivered = False
            why = "the event stream keeps closing"
            try:
                async with self._http().ws_connect(
                    f"/stream?since={last_seq}", heartbeat=_STREAM_HEARTBEAT_S
                ) as ws:
                    async for message in ws:
                        if message.type is not aiohttp.WSMsgType.TEXT:
                            break
                        event = _event(message.data)
                        seq = int(event["seq"])
                        if seq <= last_seq:
                            continue  # already yielded before a reconnect
                        last_seq = seq
                        delivered = True
                        quiet_reconnects = 0
                        yield event
            except aiohttp.ClientConnectorError as error:
                why = _why(error)
            except (aiohttp.ClientError, TimeoutError):
                pass  # a broken stream: resume below
            if not delivered:
                quiet_reconnects += 1
                if quiet_reconnects > self._max_reconnects:
                    raise EngineNotRunning(self.socket_path, why)
                await asyncio.sleep(self._backoff(quiet_reconnects))

    def _backoff(self, attempt: int) -> float:
        delay: float = self._retry_initial_s * 2 ** min(attempt - 1, 16)
        return min(delay, self._retry_max_s)


def _mapping(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ControlProtocolError(f"the engine's {what} is not a JSON object")
    return raw


def _event(data: Any) -> dict[str, Any]:
    try:
        event = _mapping(json.loads(data), "event")
        int(event["seq"])
    except (ValueError, KeyError, TypeError) as error:
        raise ControlProtocolError(
            f"the engine sent an event without a valid seq: {error}"
        ) from None
    return event


def _why(error: BaseException) -> str:
    text = str(error)
    return f"{error.__class__.__name__}: {text}" if text else error.__class__.__name__
