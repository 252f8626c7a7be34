"""The engine's client interface: what the desk, the CLI and tests may ask of an engine.

The same interface is served in-process (tests) and over the control socket (a separate engine
process), so everything that crosses it is JSON-ready: decimals as strings, times as ISO-8601 UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class CommandName(StrEnum):
    """Imperative commands an operator can give (DESIGN.md section 2)."""

    SUBMIT_ORDER = "SubmitOrder"
    CANCEL_ORDER = "CancelOrder"
    CANCEL_ALL_ORDERS = "CancelAllOrders"
    CLOSE_POSITION = "ClosePosition"
    HALT = "Halt"
    ARM = "Arm"
    REDUCE = "Reduce"  # only orders that reduce positions (sells) until armed
    EMERGENCY_STOP = "EmergencyStop"  # halt, cancel everything, verify, optionally flatten
    SET_PROTECTION = "SetProtection"  # SL / TP / trailing resting on the exchange
    CLEAR_PROTECTION = "ClearProtection"
    RECONCILE = "Reconcile"
    STOP_ENGINE = "StopEngine"
    CONFIRM_LIVE = "ConfirmLive"  # {"typed": "LIVE"}: the operator's typed go-ahead for LIVE


class Outcome(StrEnum):
    """How a command ended; the CLI maps each to its own exit code."""

    OK = "ok"
    USAGE = "usage"  # the command was malformed (bad symbol, bad number, missing field)
    REFUSED = "refused"  # refused by risk or safety (filters, halted, balance, limits)
    VENUE = "venue"  # the exchange rejected it or could not be reached
    UNKNOWN = "unknown"  # sent, outcome not known yet; it will be settled by query, never resent


@dataclass(frozen=True)
class CommandResult:
    """The engine's answer to one command."""

    outcome: Outcome
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "message": self.message, "data": self.data}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CommandResult:
        return cls(Outcome(raw["outcome"]), str(raw["message"]), dict(raw.get("data") or {}))


class EngineClient(Protocol):
    """What a client of the engine can do; implemented in-process and over the control socket."""

    async def snapshot(self) -> dict[str, Any]:
        """The whole current state, with the sequence number of the last event it includes."""
        ...

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        """Events with seq > since_seq, in order, then live ones as they happen."""
        ...

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        """Run one command and wait for its result."""
        ...

    async def close(self) -> None: ...
