"""Crash output and the command palette never leak what is on the stack or the screen (S12, S13)."""

from __future__ import annotations

import pytest

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
    assert "Quit (q)" in titles


class CrashingDesk(DeskApp):
    """A desk with a key whose handler fails while a secret is in a local variable."""

    BINDINGS = [("z", "crash", "Crash")]  # noqa: RUF012

    def action_crash(self) -> None:
        api_secret = CANARY
        raise RuntimeError(f"boom {len(api_secret)}")


async def test_a_crash_prints_no_local_variables(capsys: pytest.CaptureFixture[str]) -> None:
    app = CrashingDesk(QuietClient)
    with pytest.raises(RuntimeError, match="boom 20"):  # run_test re-raises it at the end
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("z")  # Textual's own path: the handler's exception ends the app
            await pilot.pause()
    printed = capsys.readouterr()
    text = printed.out + printed.err  # Textual prints the crash when the app ends
    assert app.return_code == 1
    assert "RuntimeError: boom 20" in text
    assert "action_crash" in text  # a traceback, with its frames
    assert CANARY not in text


SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class LeakyCrashDesk(DeskApp):
    """A desk whose handler fails with a signed request in the exception's message."""

    BINDINGS = [("z", "crash", "Crash")]  # noqa: RUF012

    def action_crash(self) -> None:
        raise RuntimeError(f"request failed: /api/v3/order?symbol=BTCUSDT&signature={SIGNATURE}")


async def test_a_crash_message_is_printed_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    app = LeakyCrashDesk(QuietClient)
    with pytest.raises(RuntimeError, match="request failed"):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("z")
            await pilot.pause()
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "RuntimeError: request failed" in text
    assert "action_crash" in text
    assert SIGNATURE not in text
