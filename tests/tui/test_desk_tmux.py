"""Smoke test of the real `spotdesk` console script in a terminal (tmux), used as a person would.

The desk starts the engine, which starts the embedded exchange on a free port, all in a fresh
data directory; the test buys 0.001 BTC through the order ticket, presses the emergency stop,
then quits stopping the engine, reading only what the screen shows.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from decimal import Decimal

from tmux_driver import (
    TmuxPane,
    box_lines,
    command_line,
    end_processes,
    exit_status,
    free_loopback_port,
    pids_with_env,
    poll,
    require_tmux,
)

WIDTH, HEIGHT = 160, 50
START_S = 30.0  # the engine and the exchange start as processes of their own
STEP_S = 10.0
STOP_S = 10.0
# The header's first line: mode, account, trading state (then a halt reason, the stop hint).
HEADER = re.compile(r"^\s*SIM\s+account (\S+)\s+(ACTIVE|REDUCING|HALTED)\b")
NUMBER = r"\d+(?:\.\d+)?"
MARKET_ROW = re.compile(rf"^BTCUSDT\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+\d+s$")
ENGINE_NOT_RUNNING = 4  # `spotdesk engine status` when no engine answers (EXIT_UNAVAILABLE)


def trading_state(screen: str) -> str | None:
    match = HEADER.match(screen.splitlines()[0] if screen else "")
    return match.group(2) if match else None


def header_shows(state: str) -> Callable[[str], bool]:
    return lambda screen: trading_state(screen) == state


def btcusdt_quote(screen: str) -> tuple[str, str, str] | None:
    """Bid, ask and last of BTCUSDT in the Market pane, once it shows them."""
    for line in box_lines(screen, "Market") or []:
        match = MARKET_ROW.match(line)
        if match:
            bid, ask, last = match.groups()
            return bid, ask, last
    return None


def orders_rows(screen: str) -> list[list[str]] | None:
    lines = box_lines(screen, "Orders")
    if lines is None or not lines or not lines[0].startswith("Client id"):
        return None
    return [line.split() for line in lines[1:] if line]


def filled_order(screen: str) -> list[str] | None:
    return next((row for row in orders_rows(screen) or [] if "FILLED" in row), None)


def spotdesk_script() -> pathlib.Path:
    """The venv's console script, next to the interpreter running the tests."""
    return pathlib.Path(sys.executable).parent / "spotdesk"


def desk_environment(data_dir: pathlib.Path, port: int) -> dict[str, str]:
    """This environment without any SPOTDESK_* or tmux setting, pointed at a fresh desk."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SPOTDESK_") and key not in ("TMUX", "TMUX_PANE")
    }
    env["SPOTDESK_DATA_DIR"] = str(data_dir)
    env["SPOTDESK_SIM__PORT"] = str(port)
    return env


def test_buy_emergency_stop_and_quit_in_a_real_terminal() -> None:
    tmux = require_tmux()
    script = spotdesk_script()
    assert script.is_file(), f"no console script at {script}: is the project installed?"
    # Short and fresh: the engine's control socket lives under it (a socket path is short).
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="spotdesk-tmux-"))
    assert data_dir.stat().st_mode & 0o777 == 0o700
    port = free_loopback_port()
    env = desk_environment(data_dir, port)
    name = f"spotdesk-smoke-{uuid.uuid4().hex[:12]}"
    pane = TmuxPane(tmux, name, env)
    try:
        # cwd is the data directory, so no stray .env file configures this desk.
        pane.start([str(script)], cwd=data_dir, width=WIDTH, height=HEIGHT)
        pane.wait_for("the header to show ACTIVE", header_shows("ACTIVE"), START_S)
        bid, ask, last = pane.wait_for("BTCUSDT prices in Market", btcusdt_quote, STEP_S)
        assert 0 < Decimal(bid) < Decimal(ask), pane.last_screen
        assert Decimal(last) > 0, pane.last_screen

        # The ticket: symbol, then side and type (Selects), then quantity; Enter previews.
        pane.press("n")
        pane.wait_for("the order ticket", lambda s: "New order" in s and "Send BUY" in s, STEP_S)
        pane.type_text("BTCUSDT")
        pane.press("Tab", "Tab", "Tab")
        pane.type_text("0.001")
        pane.press("Enter")
        pane.wait_for(
            "the preview's go-ahead",
            lambda s: (
                "BUY BTC with USDT: 0.001 BTC market" in s
                and "To send: move to Send (Tab) and press Enter." in s
            ),
            STEP_S,
        )
        # From quantity: quote quantity, risk stop, price, stop-loss, take-profit, Cancel, then
        # the enabled Send.
        pane.press("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        row = pane.wait_for("the order FILLED in Orders", filled_order, STEP_S)
        # id, symbol, side, type, qty, price, state, filled, avg, origin
        assert row[1:8] == ["BTCUSDT", "BUY", "MARKET", "0.001", "-", "FILLED", "0.001"], (
            pane.last_screen
        )
        assert row[-1] == "DESK", pane.last_screen
        assert orders_rows(pane.last_screen) == [row], pane.last_screen

        pane.press("C-k")
        pane.wait_for("the EMERGENCY STOP dialog", lambda s: "STOP EVERYTHING (y)" in s, STEP_S)
        pane.press("y")
        pane.wait_for("the header to show HALTED", header_shows("HALTED"), STEP_S)
        pane.wait_for(
            "the emergency stop's result",
            lambda s: "Result: ok: emergency stop done: HALTED, no open orders" in s,
            STEP_S,
        )
        pane.press("Escape")
        pane.wait_for("the dialog to close", lambda s: "Esc to close." not in s, STEP_S)

        # Quit: focus starts on "Leave engine running"; Tab moves to "Stop engine".
        pane.press("q")
        pane.wait_for("the quit dialog", lambda s: "Quit the desk" in s, STEP_S)
        pane.press("Tab", "Enter")
        pane.wait_for("spotdesk to exit", lambda s: exit_status(s) is not None, STOP_S)
        assert exit_status(pane.last_screen) == 0, pane.last_screen

        # The desk asked the engine to stop; it may take a moment to end.
        check = StatusCheck(script, data_dir, env)
        poll("no engine to run", check.no_engine, STOP_S, lambda: check.seen)
        assert f"not running (no answer on {data_dir}" in check.seen, check.seen
    finally:
        pane.kill_server()
        # Left now: the embedded exchange the engine started (it outlives engines by design),
        # and on a failure the engine and the desk too. All carry this test's data directory.
        end_processes(pids_with_env("SPOTDESK_DATA_DIR", str(data_dir)), STOP_S)
        shutil.rmtree(data_dir, ignore_errors=True)


class StatusCheck:
    """`spotdesk engine status`, and the engine processes of this data directory."""

    def __init__(self, script: pathlib.Path, data_dir: pathlib.Path, env: dict[str, str]):
        self._script = script
        self._data_dir = data_dir
        self._env = env
        self.seen = ""

    def no_engine(self) -> bool:
        """Whether the status command says no engine runs and no engine process is left."""
        done = subprocess.run(
            [str(self._script), "engine", "status"],
            env=self._env,
            cwd=self._data_dir,
            capture_output=True,
            text=True,
            timeout=STOP_S,
            check=False,
        )
        engines = [
            command_line(pid)
            for pid in pids_with_env("SPOTDESK_DATA_DIR", str(self._data_dir))
            if "engine.service" in command_line(pid)
        ]
        self.seen = (
            f"`spotdesk engine status` exited {done.returncode}:\n{done.stdout}{done.stderr}"
            f"engine processes: {engines}"
        )
        return done.returncode == ENGINE_NOT_RUNNING and not engines
