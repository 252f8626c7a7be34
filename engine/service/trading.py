"""Halt, Reduce and Arm: the trading state, journaled so that a halt survives restarts, and the
engine's own moves (fail-closed halts, REDUCING on a daily-loss breach), each with its reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.journal import JournalError
from engine.risk import StateTransition, TradingState
from engine.risk.state import TransitionRefused
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.args import UsageError, required_text
from engine.service.events import TradingStateChanged
from engine.service.gate import TRADING_KEY, TradingGate
from engine.service.parts import Parts
from engine.venue.timing import Clock

log = logging.getLogger(__name__)


class TradingControl:
    """Moves the gate's trading state machine and journals each move with an event."""

    def __init__(self, gate: TradingGate, clock: Clock, parts: Callable[[], Parts | None]):
        self._gate = gate
        self._clock = clock
        self._parts = parts

    async def command(self, name: CommandName, args: Mapping[str, Any]) -> CommandResult:
        """Halt, Reduce or Arm, each with the operator's reason."""
        try:
            reason = required_text(args, "reason").strip()
            if not reason:
                raise UsageError("reason must say something")
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        gate = self._gate
        if name is CommandName.ARM and gate.journal_failure is not None:
            return CommandResult(Outcome.REFUSED, f"cannot arm: {gate.new_orders_blocked()}")
        if self._parts() is None:
            return CommandResult(Outcome.REFUSED, "the engine is not running")
        try:
            transition = self._move(name, reason)
        except TransitionRefused as error:
            return CommandResult(Outcome.REFUSED, str(error), self.state_json())
        try:
            await self.journal(transition)
        except JournalError as error:
            return CommandResult(Outcome.REFUSED, f"the change could not be journaled: {error}")
        state = gate.state
        message = f"trading {state.value}: {gate.reason}"
        blocked = gate.new_orders_blocked()
        if state is not TradingState.HALTED and blocked is not None:
            message += f" (new orders still wait: {blocked})"
        return CommandResult(Outcome.OK, message, self.state_json())

    def _move(self, name: CommandName, reason: str) -> StateTransition | None:
        machine, now = self._gate.machine, self._clock.now()
        if name is CommandName.HALT:
            return machine.halt(reason, now)
        if name is CommandName.REDUCE:
            return machine.reduce(reason, now)
        return machine.arm(reason, now)

    def state_json(self) -> dict[str, Any]:
        gate = self._gate
        return {"trading_state": gate.state.value, "reason": gate.reason}

    async def journal(self, transition: StateTransition | None) -> None:
        """Write the state record (always: counters ride along) and announce a real move."""
        parts = self._parts()
        if parts is None:
            return
        written = parts.journal.set_state(TRADING_KEY, self._gate.stored())
        if transition is not None:
            parts.pipeline.emit(
                TradingStateChanged(transition.state, transition.previous, transition.reason)
            )
        await written

    def halt(self, reason: str) -> None:
        """Fail closed: no new orders until the operator arms again (cancels still go)."""
        gate = self._gate
        transition = gate.machine.halt(reason, self._clock.now())
        if transition is None:
            return
        log.error("trading halted: %s", reason)
        self._announce(transition)

    def release(self, reason: str) -> bool:
        """The engine re-arms after a halt it made itself (the circuit breaker's auto close),
        only while trading is still HALTED for exactly `reason`; True when it did."""
        gate = self._gate
        if gate.state is not TradingState.HALTED or gate.reason != reason:
            return False
        if gate.journal_failure is not None:
            return False
        transition = gate.machine.arm(f"{reason} - closed after the cooldown", self._clock.now())
        if transition is not None:
            log.warning("trading re-armed: %s", transition.reason)
            self._announce(transition)
        return True

    def reduce(self, reason: str) -> None:
        """The engine's own move to REDUCING (a daily-loss breach); HALTED stays HALTED."""
        gate = self._gate
        if gate.state is not TradingState.ACTIVE:
            return
        transition = gate.machine.reduce(reason, self._clock.now())
        if transition is not None:
            log.warning("trading REDUCING: %s", reason)
            self._announce(transition)

    def _announce(self, transition: StateTransition) -> None:
        parts = self._parts()
        if parts is None or self._gate.journal_failure is not None:
            return
        parts.journal.set_state(TRADING_KEY, self._gate.stored()).add_done_callback(_ignore)
        parts.pipeline.emit(
            TradingStateChanged(transition.state, transition.previous, transition.reason)
        )

    def journal_failed(self, reason: str) -> None:
        """The journal stopped writing: nothing can be recorded, so nothing may be sent."""
        self._gate.journal_failure = reason
        self.halt(reason)


def _ignore(future: asyncio.Future[Any]) -> None:
    """A halt's journal write may fail too; the halt stands in memory either way."""
    if not future.cancelled():
        future.exception()
