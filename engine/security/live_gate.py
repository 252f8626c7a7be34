"""The LIVE gate: a LIVE engine reaches Binance only after the operator has typed LIVE in the desk.

LIVE takes three acts: `SPOTDESK_MODE=live`, `--live` when the engine starts (with the word typed
at the terminal), and the word typed again in the desk. Until the third, the engine process serves
this gate on its control socket instead of an engine: nothing is connected, every order is
refused, and the snapshot is a placeholder whose `live.state` is `awaiting_confirmation`. The desk
sends `ConfirmLive {"typed": "<what the operator typed>"}`; on the exact word the real engine is
started in the background (`live.state` is `starting`), and once it runs every call goes to it
(`confirmed`). A start that fails comes back to `awaiting_confirmation` with `live.last_error`.
Each change of state ends the placeholder's event stream, so a subscriber re-reads the snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.audit import Operator

log = logging.getLogger(__name__)

CONFIRM_WORD = "LIVE"


class LiveState(StrEnum):
    """Where a LIVE engine stands with the operator's confirmation (`snapshot.live.state`)."""

    NOT_REQUIRED = "not_required"  # SIM or TESTNET
    AWAITING = "awaiting_confirmation"
    STARTING = "starting"
    CONFIRMED = "confirmed"


def live_json(
    state: LiveState, *, last_error: str | None = None, confirmed_at: datetime | None = None
) -> dict[str, Any]:
    """The snapshot's `live` section."""
    return {
        "state": state.value,
        "confirm_word": CONFIRM_WORD,
        "last_error": last_error,
        "confirmed_at": None if confirmed_at is None else confirmed_at.isoformat(),
    }


class GatedEngine(Protocol):
    """What the gate needs of the engine it starts (the process's RunningEngine)."""

    stopped: asyncio.Event

    async def snapshot(self) -> dict[str, Any]: ...

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]: ...

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult: ...

    async def command_from(
        self, operator: Operator, name: CommandName, args: Mapping[str, Any]
    ) -> CommandResult: ...

    async def record_action(
        self,
        operator: Operator,
        name: CommandName | str,
        args: Mapping[str, Any],
        result: CommandResult,
        *,
        received_at: datetime,
    ) -> None: ...

    async def stop(self) -> None: ...


class LiveGate:
    """Served in place of a LIVE engine until the operator confirms; see the module docstring.

    `start` builds and starts the real engine (it connects to Binance); `clock` stamps the
    confirmation."""

    def __init__(
        self,
        start: Callable[[], Awaitable[GatedEngine]],
        *,
        account: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._start = start
        self._account = account
        self._clock = clock
        self._engine: GatedEngine | None = None
        self._state = LiveState.AWAITING
        self._last_error: str | None = None
        self._confirmed_at: datetime | None = None
        # Who typed LIVE and what they were told: audited by the engine once it runs (there
        # is no journal before that).
        self._confirmation: tuple[Operator, CommandResult] | None = None
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.stopped = asyncio.Event()

    @property
    def state(self) -> LiveState:
        return self._state

    # -- what the control server serves ----------------------------------------------------------

    async def snapshot(self) -> dict[str, Any]:
        engine = self._engine
        if engine is not None:
            found = await engine.snapshot()
            found["live"] = self._live_json()
            return found
        return self._placeholder()

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        if self._engine is not None:
            return self._engine.events(since_seq)
        return self._until_changed(self._changed)

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        engine = self._engine
        if name is CommandName.CONFIRM_LIVE:
            if engine is not None:
                return CommandResult(Outcome.OK, "LIVE was confirmed already", self._live_json())
            return self._confirm(args)
        if engine is not None:
            return await engine.command(name, args)
        if name is CommandName.STOP_ENGINE:
            # The process stops the gate once this answer has gone out.
            return CommandResult(Outcome.OK, "the engine is stopping; nothing was connected")
        return CommandResult(
            Outcome.REFUSED,
            f"LIVE mode waits for the operator to type {CONFIRM_WORD} in the desk; nothing is "
            f"connected and no order can go out until then (live.state: {self._state.value})",
            self._live_json(),
        )

    async def command_from(
        self, operator: Operator, name: CommandName, args: Mapping[str, Any]
    ) -> CommandResult:
        """`command` for the control server's client `operator`: once the engine runs it audits
        every command itself; the confirmation that started it is audited as soon as it can."""
        engine = self._engine
        if engine is not None and name is not CommandName.CONFIRM_LIVE:
            return await engine.command_from(operator, name, args)
        result = await self.command(name, dict(args))
        if name is CommandName.CONFIRM_LIVE and engine is None and result.outcome is Outcome.OK:
            self._confirmation = (operator, result)
        return result

    async def stop(self) -> None:
        """Stop a start under way, stop the engine if it runs; idempotent."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.stop()
        self._notify()
        self.stopped.set()

    # -- confirmation --------------------------------------------------------------------------

    def _confirm(self, args: Mapping[str, Any]) -> CommandResult:
        if self._stopping:
            return CommandResult(Outcome.REFUSED, "the engine is stopping")
        if self._state is LiveState.STARTING:
            return CommandResult(Outcome.REFUSED, "LIVE is starting already", self._live_json())
        typed = args.get("typed")
        if not isinstance(typed, str) or typed.strip() != CONFIRM_WORD:
            return CommandResult(
                Outcome.REFUSED,
                f"not confirmed: type {CONFIRM_WORD} exactly (capitals) to trade real money",
                self._live_json(),
            )
        self._confirmed_at = self._clock()
        self._last_error = None
        self._set(LiveState.STARTING)
        log.warning("LIVE confirmed by the operator; starting the engine against Binance")
        self._keep(asyncio.create_task(self._run_start(), name="live-start"))
        return CommandResult(
            Outcome.OK,
            "LIVE confirmed: the engine is starting and connects to Binance now",
            self._live_json(),
        )

    async def _run_start(self) -> None:
        try:
            engine = await self._start()
        except Exception as error:
            log.error("the LIVE engine could not start: %s", error)
            self._last_error = str(error)
            self._set(LiveState.AWAITING)
            return
        if self._stopping:
            await engine.stop()
            return
        self._engine = engine
        await self._audit_confirmation(engine)
        self._keep(asyncio.create_task(self._follow(engine), name="live-engine-stopped"))
        self._set(LiveState.CONFIRMED)

    async def _audit_confirmation(self, engine: GatedEngine) -> None:
        confirmation, self._confirmation = self._confirmation, None
        if confirmation is None or self._confirmed_at is None:
            return
        operator, result = confirmation
        args = {"typed": CONFIRM_WORD, "confirmed": True}
        await engine.record_action(
            operator, CommandName.CONFIRM_LIVE, args, result, received_at=self._confirmed_at
        )

    async def _follow(self, engine: GatedEngine) -> None:
        """An engine that stops by itself (StopEngine) stops the gate's process too."""
        await engine.stopped.wait()
        self.stopped.set()

    # -- helpers -------------------------------------------------------------------------------

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a LIVE gate task failed", exc_info=task.exception())

    def _set(self, state: LiveState) -> None:
        self._state = state
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _until_changed(self, changed: asyncio.Event) -> AsyncIterator[dict[str, Any]]:
        """The placeholder's event stream: nothing, ending at the next change of state."""
        await changed.wait()
        return
        yield  # an async generator that yields nothing

    def _live_json(self) -> dict[str, Any]:
        return live_json(self._state, last_error=self._last_error, confirmed_at=self._confirmed_at)

    def _placeholder(self) -> dict[str, Any]:
        """A snapshot of the schema's shape with nothing in it: no engine runs yet."""
        waiting = f"LIVE: waiting for the operator to type {CONFIRM_WORD} in the desk"
        down = {
            "state": "DOWN",
            "reason": "not connected: LIVE not confirmed yet",
            "last_event_age_s": None,
        }
        return {
            "schema": 1,
            "seq": 0,
            "mode": "live",
            "account": self._account,
            "trading_state": "HALTED",
            "halt_reason": waiting,
            "reconciled": False,
            "reconcile": {
                "reason": waiting,
                "last_at": None,
                "last_clean": None,
                "last_summary": None,
            },
            "health": {
                "rest": {"state": "UNKNOWN", "last_ok_age_s": None, "last_error": None},
                "user_stream": dict(down),
                "market": dict(down),
                "journal": {"state": "OK", "reason": None},
            },
            "clock_offset_ms": None,
            "balances": [],
            "positions": [],
            "orders": {"open": [], "recent": []},
            "watch_list": [],
            "marks": [],
            "symbols": [],
            "live": self._live_json(),
        }
