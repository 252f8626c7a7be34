"""Crash output: a command that fails, an exception nobody catches and a thread that dies are
reported redacted and without local variables; the 0600 log keeps the redacted traceback."""

from __future__ import annotations

import argparse
import io
import os
import pathlib
import stat
import subprocess
import sys
import textwrap

import pytest

from engine import cli
from engine.commands import status_cmd
from engine.logs import CrashReporter
from engine.security.redact import MASK, Redactor

SECRET = "crash-canary-1a2b3c4d5e6f"


def test_a_failing_command_prints_one_redacted_line_and_logs_the_traceback(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTDESK_API_SECRET", SECRET)
    (tmp_path / "data" / "sim-default").mkdir(parents=True, mode=0o700)

    def crash(_args: argparse.Namespace) -> int:
        signing_secret = os.environ["SPOTDESK_API_SECRET"]  # a local the output must not show
        raise RuntimeError(f"forced crash holding {signing_secret}")

    monkeypatch.setattr(status_cmd, "_status", crash)
    assert cli.main(["status"]) == 1
    log = tmp_path / "data" / "sim-default" / "logs" / "cli.log"
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        f"spotdesk: internal error: RuntimeError: forced crash holding {MASK}\n"
        f"spotdesk: details (redacted) in {log}\n",
    )
    text = log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert SECRET not in text and "signing_secret =" not in text
    assert "Traceback (most recent call last):" in text
    assert f"RuntimeError: forced crash holding {MASK}" in text


def test_without_a_log_file_the_redacted_traceback_goes_to_stderr() -> None:
    stderr = io.StringIO()
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError as error:
        CrashReporter(Redactor([SECRET]), None, stderr).report(error)
    lines = stderr.getvalue().splitlines()
    assert lines[0] == f"spotdesk: internal error: ValueError: bad key {MASK}"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == f"ValueError: bad key {MASK}"
    assert SECRET not in stderr.getvalue()


CRASHING_PROGRAM = textwrap.dedent(
    """
    import pathlib, sys, threading
    from engine.logs import Role, install_crash_hooks, start_logging

    secret = sys.argv[2]
    session = start_logging(Role.ENGINE, directory=pathlib.Path(sys.argv[1]), secrets=[secret],
                            stderr=sys.stderr)
    install_crash_hooks(session.reporter)

    def in_thread(token=secret):
        raise OSError(f"thread lost {token}")

    worker = threading.Thread(target=in_thread, name="worker")
    worker.start()
    worker.join()

    def sign(api_secret):
        request = {"apiKey": "k", "secret": api_secret}
        raise RuntimeError(f"uncaught with {api_secret}")

    sign(secret)
    """
)


def test_uncaught_exceptions_in_a_process_go_through_the_hooks(tmp_path: pathlib.Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", CRASHING_PROGRAM, str(tmp_path), SECRET],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log = tmp_path / "logs" / "engine.log"
    assert ran.returncode == 1
    assert ran.stdout == ""
    assert ran.stderr == (
        f"spotdesk: thread worker crashed: OSError: thread lost {MASK}\n"
        f"spotdesk: details (redacted) in {log}\n"
        f"spotdesk: crashed: RuntimeError: uncaught with {MASK}\n"
        f"spotdesk: details (redacted) in {log}\n"
    )
    text = log.read_text()
    assert SECRET not in text and "request =" not in text
    assert text.count("Traceback (most recent call last):") == 2
    assert f"RuntimeError: uncaught with {MASK}" in text
