"""Benchmark: time from `spotdesk` to the desk's first full frame, with the engine already running.

Method. A fresh data directory and a free port; `spotdesk engine start` starts the engine (and
the embedded exchange it needs) in SIM mode, outside the timing. Each run then starts the real
`spotdesk` console script in a pseudo-terminal of 160x50, as a person would, and times from
starting the process until the terminal output holds the first frame drawn from the engine's
data: the header's trading state (`ACTIVE`), the links' health (`REST ok`) and the event log's
level (`level info+`), i.e. Python's start, the imports, the engine found on its socket, the
first snapshot and events, and the frame written. Then `q` and Enter (leave the engine running)
end the desk. Reported: median and range over the runs (10; 3 with --short), the first run
apart (cold file cache). At the end the engine is stopped and the exchange ended.
Aim: at most 1.5 s.

Run: `python -m bench.desk_startup [--short]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from bench.desk_terminal import Terminal

SIZE = (160, 50)
FIRST_FRAME = ("ACTIVE", "REST ok", "level info+")
FRAME_TIMEOUT_S = 30.0
STEP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spotdesk() -> str:
    """The venv's console script, next to this interpreter."""
    return str(pathlib.Path(sys.executable).parent / "spotdesk")


def environment(data_dir: pathlib.Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTDESK_")}
    env.update(SPOTDESK_DATA_DIR=str(data_dir), SPOTDESK_SIM__PORT=str(free_port()))
    return env


def one_run(env: dict[str, str], cwd: pathlib.Path) -> float:
    """Seconds from starting `spotdesk` to its first frame with the engine's data."""
    started = time.monotonic()
    desk = Terminal([spotdesk()], size=SIZE, env=env, cwd=str(cwd))
    try:
        shown = max(desk.wait_for(text, FRAME_TIMEOUT_S) for text in FIRST_FRAME)
        desk.mark()
        desk.press(b"q")
        desk.wait_for("Quit the desk", STEP_TIMEOUT_S)
        desk.press(b"\r")  # focus starts on "Leave engine running"
        desk.wait_exit(STEP_TIMEOUT_S)
    finally:
        desk.close()
    return shown - started


def processes_of(data_dir: pathlib.Path) -> list[int]:
    """Processes started for this data directory (the exchange outlives the engine by design)."""
    wanted = f"SPOTDESK_DATA_DIR={data_dir}".encode()
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if wanted in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def measure(runs: int) -> list[float]:
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="desk-start-"))  # short: a socket lives here
    env = environment(data_dir)
    try:
        subprocess.run(
            [spotdesk(), "engine", "start"], env=env, cwd=data_dir, check=True, timeout=60
        )
        return [one_run(env, data_dir) for _ in range(runs)]
    finally:
        subprocess.run([spotdesk(), "engine", "stop"], env=env, cwd=data_dir, timeout=60)
        for pid in processes_of(data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(1.0)
        for pid in processes_of(data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="3 runs instead of 10")
    runs = 3 if parser.parse_args().short else 10
    print(f"desk start to first full frame, engine already running, {runs} runs")
    times = measure(runs)
    first, rest = times[0], times[1:] or times
    print(f"  first run: {first:.2f} s")
    print(
        f"  then: median {statistics.median(rest):.2f} s, range {min(rest):.2f}-{max(rest):.2f} s"
        " (aim: at most 1.5 s)"
    )


if __name__ == "__main__":
    main()


def figures(short: bool) -> list[object]:
    """The protocol of `python -m bench` (bench/figure.py): the runs after the first."""
    from bench.figure import Aim, from_samples

    times = measure(3 if short else 10)
    rest = times[1:] or times
    method = f"`spotdesk` in a 160x50 pty -> first frame with engine data; first {times[0]:.2f} s"
    return [from_samples("start", "desk start to first full frame", rest, "s", method,
                         aim=Aim("<=", 1.5))]  # fmt: skip
