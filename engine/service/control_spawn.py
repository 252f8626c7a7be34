"""Starting a detached child (the engine, the embedded exchange) and waiting until it answers.

The child gets a new session (a dropped SSH session or Ctrl-C at the desk does not reach it),
no stdin, and its stdout and stderr appended to a private log file. It is started with
`posix_spawn` rather than `subprocess`/`asyncio`, whose handles warn or kill when they are
dropped while the child runs: these children are meant to outlive whoever started them.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

_POLL_S = 0.05
LOG_FILE_MODE = 0o600


@dataclass(frozen=True)
class Spawned:
    """A detached child: its pid and the log that receives its output."""

    pid: int
    log: pathlib.Path

    def exit_status(self) -> int | None:
        """The child's exit code once it has ended (reaping it), else None.

        Only the process that spawned the child can see this; -N means killed by signal N.
        """
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return -1  # already reaped elsewhere
        if pid == 0:
            return None
        return os.waitstatus_to_exitcode(status)


def python_module_argv(module: str, *args: str) -> list[str]:
    """`python -m module args...` with this very interpreter."""
    return [sys.executable, "-m", module, *args]


def spawn_detached(
    argv: Sequence[str], log: pathlib.Path, *, env: dict[str, str] | None = None
) -> Spawned:
    """Start `argv` in its own session with output appended to `log` (created 0600)."""
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    try:
        pid = os.posix_spawn(
            argv[0],
            list(argv),
            dict(os.environ if env is None else env),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, null_fd, 0),
                (os.POSIX_SPAWN_DUP2, log_fd, 1),
                (os.POSIX_SPAWN_DUP2, log_fd, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(log_fd)
        os.close(null_fd)
    return Spawned(pid, log)


async def wait_until_ready(
    child: Spawned, ready: Callable[[], Awaitable[bool]], *, timeout_s: float
) -> int | None:
    """Poll `ready` until it is true (None returned) or the child ends (its exit code).

    Raises TimeoutError when neither happens in `timeout_s`; the child is left running.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if await ready():
            return None
        status = child.exit_status()
        if status is not None:
            return status
        if loop.time() >= deadline:
            raise TimeoutError(f"pid {child.pid} was not ready after {timeout_s:g} s")
        await asyncio.sleep(_POLL_S)


def log_tail(log: pathlib.Path, lines: int = 15) -> str:
    """The last lines of a log file, to show why a child failed to start."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (it may belong to someone else); zombies do not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True  # no procfs here: existence is all we can tell
    # The state letter follows the command name, which is in parentheses and may hold spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
