"""`CommandSender`: the desk's one way to send a command, with a record of what it sent.

A failure to reach the engine becomes a result the operator can read, never an exception in a
widget; a command whose answer was lost is UNKNOWN (the engine settles it, nothing is resent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.service.api import CommandName, CommandResult, EngineClient, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentCommand:
    name: CommandName
    args: dict[str, Any]
    result: CommandResult


def command_named(name: str) -> CommandName | None:
    """The engine's command of that name, or None when this engine does not have it."""
    try:
        return CommandName(name)
    except ValueError:
        return None


class CommandSender:
    """Sends commands through the engine client; `history` lists every one sent."""

    def __init__(self, client: EngineClient) -> None:
        self._client = client
        self.history: list[SentCommand] = []

    async def send(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        try:
            result = await self._client.command(name, args)
        except Exception as error:  # the I/O boundary: the operator reads what happened
            log.warning("command %s failed: %s", name.value, type(error).__name__)
            result = CommandResult(
                Outcome.UNKNOWN,
                f"{name.value}: the engine did not answer ({type(error).__name__}); "
                "check the orders pane once it reconnects",
            )
        if not args.get("dry_run"):
            self.history.append(SentCommand(name, dict(args), result))
        return result

    def count(self, name: CommandName) -> int:
        """How many commands of this name were sent (previews excluded)."""
        return sum(1 for sent in self.history if sent.name is name)
