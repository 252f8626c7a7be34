"""`InProcessClient`: the `EngineClient` of an engine running in this process (tests, and what
the control server serves)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from engine.service.api import CommandName, CommandResult

if TYPE_CHECKING:  # the engine module builds these clients itself
    from engine.service.engine import Engine


class InProcessClient:
    """Calls a started engine directly; `close()` stops the engine only when it owns it."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        self.engine = engine
        self._owns_engine = owns_engine

    async def snapshot(self) -> dict[str, Any]:
        return await self.engine.snapshot()

    def events(self, since_seq: int) -> AsyncIterator[dict[str, Any]]:
        return self.engine.events(since_seq)

    async def command(self, name: CommandName, args: dict[str, Any]) -> CommandResult:
        return await self.engine.command(name, args)

    async def close(self) -> None:
        if self._owns_engine:
            await self.engine.stop()
