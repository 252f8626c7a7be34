"""What every subcommand shares: settings, the engine's client, endings mapped to exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import TextIO

from engine.commands.exitcodes import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    exit_code_for,
)
from engine.config import ConfigError, Settings
from engine.config import load_settings as config_loader
from engine.journal.errors import JournalError, JournalLocked
from engine.security.permissions import UnsafePermissions
from engine.service.api import CommandResult
from engine.service.control_client import SocketEngineClient
from engine.service.control_errors import ControlError, EngineAlreadyRunning
from engine.service.process import instance_paths

PROG = "spotdesk"


def say(text: str, *, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def complain(text: str) -> None:
    say(f"{PROG}: {text}", stream=sys.stderr)


def load_settings() -> Settings | None:
    """The settings, or None after telling what is wrong (never echoing the values)."""
    try:
        return config_loader()
    except ConfigError as error:
        for line in error.lines:
            complain(f"configuration error: {line}")
        return None


def execute(work: Callable[[Settings], Coroutine[object, object, int]]) -> int:
    """Load the settings, run `work` on a fresh event loop, map failures to exit codes."""
    settings = load_settings()
    if settings is None:
        return EXIT_USAGE
    try:
        return asyncio.run(work(settings))
    except (EngineAlreadyRunning, JournalLocked, UnsafePermissions) as error:
        complain(str(error))
        return EXIT_REFUSED
    except (ControlError, JournalError) as error:
        complain(str(error))
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        # A command may have reached the engine before the interrupt; it runs to its end there.
        complain("interrupted; anything already sent stays sent. Check with: spotdesk status")
        return EXIT_UNKNOWN


def engine_client(settings: Settings) -> SocketEngineClient:
    """A client of the engine for these settings' mode and account."""
    return SocketEngineClient(instance_paths(settings).socket)


def report(result: CommandResult, *, success: str | None = None) -> int:
    """Print the engine's answer (stdout when ok, stderr otherwise) and return its exit code."""
    if result.ok:
        say(success or result.message)
    else:
        complain(f"{result.outcome.value}: {result.message}")
    return exit_code_for(result.outcome)


def confirm(prompt: str, word: str) -> bool:
    """Ask the operator to type `word`; anything else (end of input, Ctrl-C) declines."""
    try:
        answer = input(prompt)
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return False
    return answer.strip() == word


def can_ask() -> bool:
    """Whether there is a person at a terminal to confirm."""
    return sys.stdin is not None and sys.stdin.isatty()
