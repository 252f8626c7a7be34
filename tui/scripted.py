"""`ScriptedClient`: an engine client that plays a fixed script (screenshots, snapshot tests,
benchmarks): one snapshot, a list of events, and canned answers to commands.

The desk cannot tell it from an engine: it speaks the same `EngineClient` interface and the same
JSON shapes, and it records every command it is given, so tests can assert on what was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from engine.service.api import CommandName, CommandResult, Outcome

Answer = Callable[[CommandName, Mapping[str, Any]], CommandResult]


def refuse_everything(name: CommandName, args: Mapping[str, Any]) -> CommandResult:
    """The default answer: a script does nothing it was not written to do."""
    return CommandResult(Outcome.REFUSED, f"{name.value}: not in this script")


class ScriptedClient:
    """Serves `snapshot` and `events` as they are; `answer` decides each command's result."""

    def __init__(
        self,
        snapshot: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]] = (),
        *,
        answer: Answer = refuse_everything,
    ) -> None:
        self._snapshot = dict(snapshot)
        self._events = [dict(event) for event in events]
        self._answer = answer
        self._closed = asyncio.Event()
        self.commands: list[tuple[CommandName, dict[str, Any]]] = []

    @property
    def last_seq(self) -> int:
        """The seq of the script's snapshot: a desk that folded it is up to date."""
        return int(self._snapshot.get("seq", 0))

    async def snapshot(self) -> dict[str, Any]:
        return self._snapshot

    async def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        """The script's events after `since_seq`, then silence until closed (a quiet engine)."""
        for event in self._events:
            if int(event["seq"]) > since_seq:
                yield event
        await self._closed.wait()

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        self.commands.append((name, dict(args)))
        return self._answer(name, args)

    async def close(self) -> None:
        self._closed.set()
