"""Halt and Arm: the operator's trading state, journaled so that a halt survives restarts, and
the engine's own halts when it fails closed (journal failure, refused key, internal error)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.journal import JournalError
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.args import UsageError, required_text
from engine.service.events import TradingState, TradingStateChanged
from engine.service.gate import TRADING_KEY, TradingGate
from engine.service.parts import Parts
from engine.venue.timing import Clock

log = logging.getLogger(__name__)


class TradingControl:
    """Changes the gate's trading state and journals each change with an event."""

    def __init__(self, gate: TradingGate, clock: Clock, parts: Callable[[], Parts | None]):
        self._gate = gate
        self._clock = clock
        self._parts = parts

    async def command(self, name: CommandName, args: Mapping[str, Any]) -> CommandResult:
        """Halt or Arm, each with the operator's reason."""
        try:
            reason = required_text(args, "reason")
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        gate = self._gate
        if name is CommandName.ARM and gate.journal_failure is not None:
            return CommandResult(Outcome.REFUSED, f"cannot arm: {gate.new_orders_blocked()}")
        state = TradingState.HALTED if name is CommandName.HALT else TradingState.ACTIVE
        parts = self._parts()
        if parts is None:
            return CommandResult(Outcome.REFUSED, "the engine is not running")
        previous = gate.set_state(state, reason, self._clock.now())
        try:
            await parts.journal.set_state(TRADING_KEY, gate.stored())
        except JournalError as error:
            return CommandResult(Outcome.REFUSED, f"the change could not be journaled: {error}")
        if previous is not state:
            parts.pipeline.emit(TradingStateChanged(state, previous, reason))
        message = f"trading {state.value}: {reason}"
        blocked = gate.new_orders_blocked()
        if state is TradingState.ACTIVE and blocked is not None:
            message += f" (new orders still wait: {blocked})"
        return CommandResult(Outcome.OK, message, {"trading_state": state.value})

    def halt(self, reason: str) -> None:
        """Fail closed: no new orders until the operator arms again (cancels still go)."""
        gate = self._gate
        if gate.state is TradingState.HALTED and gate.halt_reason == reason:
            return
        previous = gate.set_state(TradingState.HALTED, reason, self._clock.now())
        log.error("trading halted: %s", reason)
        parts = self._parts()
        if parts is None or gate.journal_failure is not None:
            return
        parts.journal.set_state(TRADING_KEY, gate.stored()).add_done_callback(_ignore)
        parts.pipeline.emit(TradingStateChanged(TradingState.HALTED, previous, reason))

    def journal_failed(self, reason: str) -> None:
        """The journal stopped writing: nothing can be recorded, so nothing may be sent."""
        self._gate.journal_failure = reason
        self.halt(reason)


def _ignore(future: asyncio.Future[Any]) -> None:
    """A halt's journal write may fail too; the halt stands in memory either way."""
    if not future.cancelled():
        future.exception()
