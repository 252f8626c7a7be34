"""Errors of the control socket: no engine answers, one already runs, or it answered nonsense."""

from __future__ import annotations

import pathlib


class ControlError(Exception):
    """Anything the control socket refuses or fails to do; the message is for the operator."""


class EngineNotRunning(ControlError):
    """Nothing answers on the engine's control socket."""

    def __init__(self, socket_path: pathlib.Path, detail: str = "") -> None:
        reason = f" ({detail})" if detail else ""
        super().__init__(
            f"no engine is running: nothing answers on {socket_path}{reason}. "
            "Start one with: spotdesk engine start"
        )
        self.socket_path = socket_path


class EngineAlreadyRunning(ControlError):
    """An engine already answers on this socket, so a second one must not start."""

    def __init__(self, socket_path: pathlib.Path, pid: int | None = None) -> None:
        holder = f"pid {pid}" if pid is not None else "another process"
        super().__init__(
            f"an engine is already running ({holder}) on {socket_path}; "
            "attach to it, or stop it first with: spotdesk engine stop"
        )
        self.socket_path = socket_path
        self.pid = pid


class ControlProtocolError(ControlError):
    """The engine answered, but not with what the control protocol promises."""
