"""Driving a real terminal program in a private tmux server, as a person at the keyboard would.

`TmuxPane` starts one command in a detached session on its own tmux socket (`-L`, no user
config), sends keys one `send-keys` call at a time and reads the screen with `capture-pane`;
every wait polls the screen until a deadline and fails with the last screen in the message.
The process helpers find what a test started by a unique value in the environment it gave it.

Imported by name (this folder is on sys.path under pytest).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import pytest

POLL_S = 0.1
# A pause after each key: Textual drops some keys (Tab, notably) that arrive in one burst.
KEY_PAUSE_S = 0.1
TMUX_CALL_TIMEOUT_S = 10.0
PANE_KEPT_S = 3600  # how long the pane outlives its program (kill_server ends it sooner)

T = TypeVar("T")


def require_tmux() -> str:
    """The tmux executable; fails (not skips) the test when there is none."""
    found = shutil.which("tmux")
    if found is None:
        pytest.fail(
            "tmux is not installed, and the desk's tmux smoke test needs it: install it "
            "(apt-get install tmux; .ci/run does this when it is missing)",
            pytrace=False,
        )
    return found


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def poll(
    what: str, probe: Callable[[], T | None], timeout_s: float, evidence: Callable[[], str]
) -> T:
    """`probe()` once it is truthy; after `timeout_s`, fail showing `evidence()`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout_s:g} s waiting for {what}; last seen:\n{evidence()}"
            )
        time.sleep(POLL_S)


EXITED = "the program exited with status"
EXIT_STATUS = re.compile(rf"^{re.escape(EXITED)} (\d+)$", re.MULTILINE)


def exit_status(screen: str) -> int | None:
    """The exit status the pane shows once its program has ended, else None."""
    match = EXIT_STATUS.search(screen)
    return int(match.group(1)) if match else None


class TmuxPane:
    """One command running in a detached tmux session of a private tmux server."""

    def __init__(self, tmux: str, name: str, env: Mapping[str, str]) -> None:
        self._base = [tmux, "-u", "-L", name, "-f", os.devnull]
        self._name = name
        self._env = dict(env)
        self._socket: pathlib.Path | None = None
        self.last_screen = ""

    def start(self, argv: Sequence[str], *, cwd: pathlib.Path, width: int, height: int) -> None:
        """Run `argv` in the session; once it ends, the pane shows its exit status.

        A shell waits for it, prints the status and keeps the pane open. tmux 3.3a's own
        remain-on-exit is not reliable here: it often leaves the ended process unreaped (no
        status) or drops the pane's last output when the pane dies.
        """
        script = f'"$@"; echo "{EXITED} $?"; exec sleep {PANE_KEPT_S}'
        self._tmux(
            "new-session", "-d", "-s", self._name, "-x", str(width), "-y", str(height),
            "-c", str(cwd), "/bin/sh", "-c", script, "sh", *argv,
        )  # fmt: skip
        where = self._tmux("display-message", "-p", "-t", self._name, "#{socket_path}")
        self._socket = pathlib.Path(where.stdout.strip())

    def kill_server(self) -> None:
        """End the private tmux server and so the pane's process (SIGHUP); quiet if gone."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._tmux("kill-server", check=False)
        if self._socket is not None:
            self._socket.unlink(missing_ok=True)  # tmux leaves the socket file behind

    def press(self, *keys: str) -> None:
        """Send each key (tmux key names: Tab, Enter, Escape, C-k, y) in its own call."""
        for key in keys:
            self._tmux("send-keys", "-t", self._name, key)
            time.sleep(KEY_PAUSE_S)

    def type_text(self, text: str) -> None:
        """Type `text` one character at a time, as literal keys."""
        for char in text:
            self._tmux("send-keys", "-t", self._name, "-l", char)
            time.sleep(KEY_PAUSE_S)

    def screen(self) -> str:
        """What the pane shows now."""
        self.last_screen = self._tmux("capture-pane", "-p", "-t", self._name).stdout
        return self.last_screen

    def wait_for(self, what: str, found: Callable[[str], T | None], timeout_s: float) -> T:
        """Poll the screen until `found(screen)` is truthy; return it. Fails with the screen."""
        return poll(what, lambda: found(self.screen()), timeout_s, lambda: self.last_screen)

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._base, *args],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=TMUX_CALL_TIMEOUT_S,
            check=check,
        )


def box_lines(screen: str, title: str) -> list[str] | None:
    """The inside lines of the bordered box whose top border starts `╭─ title`, or None."""
    lines = screen.splitlines()
    for top, line in enumerate(lines):
        left = line.find(f"╭─ {title}")
        if left < 0:
            continue
        right = line.find("╮", left)
        inside: list[str] = []
        for row in lines[top + 1 :]:
            if len(row) <= left or row[left] == "╰":
                break
            inside.append(row[left + 1 : right].strip("│ "))
        return inside
    return None


def pids_with_env(name: str, value: str) -> list[int]:
    """The processes (other than this one) whose environment holds `name=value` (Linux /proc)."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile, or someone else's
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    """The process's command line with spaces between its arguments, "" when it is gone."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def end_processes(pids: Sequence[int], timeout_s: float) -> list[int]:
    """SIGTERM each pid, wait for them to end, SIGKILL what is left; returns the killed ones."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_S)
        alive = [pid for pid in alive if command_line(pid)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive
