"""Crash output and the command palette never leak what is on the stack or the screen (S12, S13)."""

from __future__ import annotations

import io

from rich.console import Console

from engine.service.api import CommandName, CommandResult, Outcome
from tui.app import DeskApp

CANARY = "canary-7f3a9c-secret"


class QuietClient:
    """A client whose engine never answers: enough for what these tests look at."""

    async def snapshot(self) -> dict[str, object]:
        raise ConnectionError("no engine")

    async def events(self, since_seq: int):  # type: ignore[no-untyped-def]
        raise ConnectionError("no engine")
        yield {}

    async def command(self, name: CommandName, args: dict[str, object]) -> CommandResult:
        return CommandResult(Outcome.REFUSED, "no engine")

    async def close(self) -> None:
        pass


async def test_the_palette_has_no_screenshot_command() -> None:
    app = DeskApp(QuietClient)
    async with app.run_test(size=(80, 24)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
    assert "Screenshot" not in titles
    assert "Quit" in titles


async def test_a_crash_prints_no_local_variables() -> None:
    app = DeskApp(QuietClient)
    async with app.run_test(size=(80, 24)):
        try:
            secret = CANARY
            raise RuntimeError("boom " + str(len(secret)))
        except RuntimeError:
            app._fatal_error()
        rendered = list(app._exit_renderables)
    output = io.StringIO()
    console = Console(file=output, width=120, color_system=None)
    for renderable in rendered:
        console.print(renderable)
    text = output.getvalue()
    assert "RuntimeError: boom 20" in text
    assert CANARY not in text
