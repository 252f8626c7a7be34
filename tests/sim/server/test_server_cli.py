"""`spotdesk sim` as a user runs it: a subprocess that prints its URLs and key, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import signal
import socket
import sys

import aiohttp
import pytest

from engine.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[3]


async def run_until_ready(
    *args: str, env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.":
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            stderr = await process.stderr.read() if process.stderr else b""
            pytest.fail(f"spotdesk sim ended early: {stderr.decode()}")
        lines.append(line.decode().rstrip("\n"))
    return process, lines


def field(lines: list[str], label: str) -> str:
    for line in lines:
        match = re.fullmatch(rf"  {re.escape(label)}\s+(\S+).*", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no {label!r} line in {lines}")


async def test_sim_starts_answers_and_stops_cleanly_on_sigterm(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state.sqlite"
    process, lines = await run_until_ready(
        "sim", "--port", "0", "--state", str(state), "--frozen-market"
    )
    try:
        rest = field(lines, "REST")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v3/", rest)
        base = rest.removesuffix("/api/v3/")
        assert field(lines, "WebSocket API") == base.replace("http", "ws") + "/ws-api/v3"
        assert field(lines, "State") == str(state)
        api_key, secret = field(lines, "API key"), field(lines, "API secret")
        assert re.fullmatch(r"[A-Za-z0-9]{64}", api_key)
        assert re.fullmatch(r"[A-Za-z0-9]{64}", secret)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/api/v3/ping") as response,
        ):
            assert (response.status, await response.json()) == (200, {})
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == "spotdesk sim: stopped; state saved."
    assert err.decode() == ""
    assert state.exists()
    # The same key comes back on the next start.
    again, lines = await run_until_ready("sim", "--port", "0", "--state", str(state))
    again.send_signal(signal.SIGINT)
    await asyncio.wait_for(again.communicate(), 30)
    assert (again.returncode, field(lines, "API key")) == (0, api_key)


async def test_default_state_lives_in_the_data_directory(tmp_path: pathlib.Path) -> None:
    process, lines = await run_until_ready(
        "sim", "--port", "0", env={"XDG_DATA_HOME": str(tmp_path)}
    )
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 30)
    assert field(lines, "State") == str(tmp_path / "spotdesk" / "sim.sqlite")
    assert process.returncode == 0


async def test_port_in_use_is_one_clear_line_and_exit_1(tmp_path: pathlib.Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli",
            "sim",
            "--port",
            str(port),
            "--state",
            str(tmp_path / "s.sqlite"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert (out.decode(), err.decode()) == (
        "",
        f"spotdesk sim: cannot listen on 127.0.0.1:{port}: address already in use\n",
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sim", "--port", "http"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(
        "spotdesk sim: error: argument --port: not a port number: 'http'\n"
    )


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Without a command, spotdesk opens the desk" in text
    assert "sim run the embedded Binance Spot exchange" in text


def test_the_desk_entry_point_is_injected_and_is_the_default() -> None:
    """engine/cli.py never imports the desk: the console script passes it in."""
    opened: list[object] = []
    assert main([], desk=lambda settings: opened.append(settings) or 0) == 0
    assert len(opened) == 1
    assert main(["desk"], desk=lambda settings: 7) == 7


def test_without_the_desk_plugged_in_desk_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2
    assert "run 'spotdesk desk'" in capsys.readouterr().err
