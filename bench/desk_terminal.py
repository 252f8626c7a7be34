"""A program in a pseudo-terminal of a fixed size, as the desk benchmarks drive it: keys written
to the terminal, and the time each awaited text first appears in what the program writes back.

The program runs as it would for a person (its own process, a real tty, Textual's own driver),
so a measured time includes input parsing, the redraw and the write to the terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence

# Escape sequences (CSI, OSC, single-character ones): removed before looking for text.
ESCAPES = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
READ_BYTES = 1 << 16


class Terminal:
    """One process on a pty; `wait_for` reads its output until a text shows up."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        size: tuple[int, int],
        env: Mapping[str, str],
        cwd: str | None = None,
    ) -> None:
        master, slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)},
            cwd=cwd,
            start_new_session=True,  # the pty becomes its controlling terminal
        )
        os.close(slave)
        self.seen = b""  # everything written since the last `mark()`, escapes removed

    def mark(self) -> None:
        """Forget what was written so far: the next `wait_for` looks only at new output."""
        self._drain(0.0)
        self.seen = b""

    def read(self) -> None:
        """Take in what the program wrote (a program whose output nobody reads blocks)."""
        self._drain(0.0)

    def press(self, key: bytes) -> float:
        """Write one key; returns the monotonic time it was written."""
        os.write(self._master, key)
        return time.monotonic()

    def wait_for(self, text: str, timeout_s: float) -> float:
        """The monotonic time at which `text` first appeared in the output since `mark()`."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout_s
        while wanted not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or not self._drain(left):
                tail = self.seen[-400:].decode(errors="replace")
                raise TimeoutError(f"{text!r} did not appear within {timeout_s:g} s: ...{tail}")
        return time.monotonic()

    def _drain(self, timeout_s: float) -> bool:
        """Read what is there (waiting up to `timeout_s` for the first bytes); False at EOF."""
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        while ready:
            try:
                chunk = os.read(self._master, READ_BYTES)
            except OSError:  # EIO: the program ended and closed the terminal
                return False
            if not chunk:
                return False
            self.seen += ESCAPES.sub(b"", chunk)
            ready, _, _ = select.select([self._master], [], [], 0)
        return True

    def close(self, timeout_s: float = 5.0) -> int | None:
        """End the program (SIGTERM to its session, SIGKILL if it lingers); its exit status."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout_s)
        os.close(self._master)
        return self.process.returncode

    def wait_exit(self, timeout_s: float) -> int | None:
        """Read (so the program never blocks writing) until it exits; its status or None."""
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None and time.monotonic() < deadline:
            if not self._drain(0.05):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(max(0.0, deadline - time.monotonic()))
        return self.process.poll()
