"""Logging setup: a private rotating file per role, created with the first line, stderr for
warnings only, --debug, redaction on every handler, and everything undone by close()."""

from __future__ import annotations

import argparse
import io
import logging
import os
import pathlib
import re
import stat

import pytest
from pydantic import SecretStr

from engine.config import Settings
from engine.logs import (
    LOG_DIR_NAME,
    PrivateRotatingFileHandler,
    Role,
    instance_directory,
    log_file,
    start_command_logging,
    start_logging,
)
from engine.security.redact import MASK, RedactingFilter

SECRET = "records-canary-5e6f7a8b9c"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+)\[(\d+)\] (\w+) ([\w.]+): (.*)$")


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_is_private_created_with_the_first_line_and_redacted(
    tmp_path: pathlib.Path,
) -> None:
    stderr = io.StringIO()
    session = start_logging(
        Role.ENGINE, directory=tmp_path / "inst", secrets=[SECRET], stderr=stderr
    )
    assert not (tmp_path / "inst").exists()  # nothing logged, nothing created
    try:
        logging.getLogger("engine.test").info("key %s", SECRET)
        logging.getLogger("engine.test").debug("not at INFO")
        logging.getLogger("engine.test").warning("careful: %s", {"api_secret": "x"})
    finally:
        session.close()
    path = tmp_path / "inst" / LOG_DIR_NAME / "engine.log"
    assert session.file == path == log_file(tmp_path / "inst", Role.ENGINE)
    assert (_mode(path.parent), _mode(path)) == (0o700, 0o600)
    lines = [LINE.match(line) for line in path.read_text().splitlines()]
    assert [m.groups() if m else None for m in lines] == [
        ("engine", str(os.getpid()), "INFO", "engine.test", f"key {MASK}"),
        (
            "engine",
            str(os.getpid()),
            "WARNING",
            "engine.test",
            f"careful: {{'api_secret': '{MASK}'}}",
        ),
    ]
    assert stderr.getvalue() == f"WARNING engine.test: careful: {{'api_secret': '{MASK}'}}\n"


def test_debug_lowers_the_level_but_keeps_chatty_libraries_at_info(
    tmp_path: pathlib.Path,
) -> None:
    session = start_logging(Role.CLI, directory=tmp_path, debug=True)
    try:
        logging.getLogger("engine.test").debug("seen")
        logging.getLogger("aiosqlite").debug("every statement")
        logging.getLogger("binance.ws").debug("every frame")
        logging.getLogger("binance.ws").info("a reconnect")
    finally:
        session.close()
    text = (tmp_path / LOG_DIR_NAME / "cli.log").read_text()
    assert [line.split(" ", 3)[3] for line in text.splitlines()] == [
        "engine.test: seen",
        "binance.ws: a reconnect",
    ]
    assert logging.getLogger("aiosqlite").level == logging.NOTSET  # restored by close()


def test_every_handler_gets_the_filter_and_close_undoes_everything(
    tmp_path: pathlib.Path,
) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    mine = logging.StreamHandler(io.StringIO())
    library = logging.getLogger("tests.records.library")
    library.addHandler(mine)
    try:
        session = start_logging(Role.CLI, directory=None, secrets=[SECRET], stderr=None)
        assert session.file is None
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
        assert any(isinstance(f, RedactingFilter) for f in mine.filters)
        library.warning("a library says %s", SECRET)
        session.close()
    finally:
        library.removeHandler(mine)
    assert mine.stream.getvalue() == f"a library says {MASK}\n"
    assert (list(root.handlers), root.level) == before
    assert mine.filters == []


def test_a_log_file_renamed_by_another_process_is_followed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "logs" / "cli.log"
    handler = PrivateRotatingFileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.records.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("one")
        path.rename(path.with_suffix(".log.1"))  # as another process's rotation does
        logger.warning("two")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        handler.close()
    assert path.with_suffix(".log.1").read_text() == "one\n"
    assert (path.read_text(), _mode(path)) == ("two\n", 0o600)


def test_an_older_open_file_is_made_private(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "logs" / "sim.log"
    path.parent.mkdir(mode=0o700)
    path.write_text("old\n")
    path.chmod(0o644)
    session = start_logging(Role.SIM, directory=tmp_path)
    try:
        logging.getLogger("engine.sim").info("new")
    finally:
        session.close()
    assert _mode(path) == 0o600
    assert path.read_text().startswith("old\n")


def test_a_directory_others_can_write_leaves_the_run_without_a_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "logs"
    shared.mkdir()
    shared.chmod(0o777)
    session = start_logging(Role.CLI, directory=tmp_path)
    try:
        logging.getLogger("engine.test").warning("first")
        logging.getLogger("engine.test").warning("second")
    finally:
        session.close()
    assert list(shared.iterdir()) == []
    said = capsys.readouterr().err
    assert said.count("spotdesk: no log file:") == 1
    assert "chmod 700" in said


def _settings(tmp_path: pathlib.Path, **fields: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **fields)  # type: ignore[call-arg]


def test_where_each_role_logs(tmp_path: pathlib.Path) -> None:
    settings = _settings(tmp_path)
    instance = tmp_path / "data" / "sim-default"
    assert instance_directory(settings, Role.ENGINE) == instance
    assert instance_directory(settings, Role.DESK) == instance
    assert instance_directory(settings, Role.CLI) is None  # no engine has run here
    instance.mkdir(parents=True)
    assert instance_directory(settings, Role.CLI) == instance


@pytest.mark.parametrize(
    ("words", "role"),
    [
        (["command=desk"], Role.DESK),
        (["command=engine", "engine_action=run"], Role.ENGINE),
        (["command=engine", "engine_action=start"], Role.CLI),
        (["command=order"], Role.CLI),
    ],
)
def test_the_command_line_picks_the_role(
    words: list[str], role: Role, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTDESK_API_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "sim-default").mkdir(parents=True, mode=0o700)
    args = argparse.Namespace(debug=False, **dict(w.split("=") for w in words))
    session = start_command_logging(args)
    try:
        assert session.role is role
        assert session.file == tmp_path / "data" / "sim-default" / "logs" / f"{role}.log"
        assert session.redactor.redact(SECRET) == MASK
        assert sys.excepthook == session.reporter.excepthook
        has_stderr = any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)
        assert has_stderr is (role is not Role.DESK)  # the desk's terminal is Textual's
    finally:
        session.close()


def test_the_sim_logs_beside_its_state_and_knows_its_secret(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    credentials = tmp_path / "credentials.json"
    credentials.write_text(f'{{"api_key": "k-1", "api_secret": "{SECRET}"}}')
    args = argparse.Namespace(
        command="sim",
        debug=True,
        state=tmp_path / "state" / "exchange.sqlite",
        api_key=None,
        api_secret=None,
        credentials=credentials,
    )
    session = start_command_logging(args)
    try:
        assert session.file == tmp_path / "state" / "logs" / "sim.log"
        assert session.redactor.redact(f"secret {SECRET}") == f"secret {MASK}"
        assert logging.getLogger().level == logging.DEBUG
    finally:
        session.close()


def test_settings_secrets_include_the_key_file(tmp_path: pathlib.Path) -> None:
    from engine.logs import settings_secrets

    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHq0d1xJ0gqZcW3o8\n-----END")
    settings = _settings(
        tmp_path, api_key=SecretStr("key-1234567"), private_key_file=pem, api_secret=None
    )
    found = [s.get_secret_value() for s in settings_secrets(settings)]
    assert found == ["key-1234567", pem.read_text()]
