"""Settings: every field described, `spotdesk config` with sources and masks, errors that never
echo the values given, the umask."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from engine.cli import main
from engine.commands.config_cmd import effective_rows, mask_key
from engine.config import Settings, settings_error_lines
from engine.preflight.settings import KeyRisk

KEY = "KEYCANARYabcdefghijklmnopqrstuvwxyz0123456789wxyz"
SECRET = "SECRETCANARY-0f3c9a"
PEM_CONTENT = "PEMCANARY-private-key-content"


def _private(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_every_setting_has_a_description(workdir: pathlib.Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    rows, unknown = effective_rows(settings, env_file=workdir / ".env", environ={})
    assert [row.name for row in rows if not row.description.strip()] == []
    assert {"SPOTDESK_MODE", "SPOTDESK_ACCOUNT", "SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS"} <= {
        row.name for row in rows
    }
    assert unknown == []


def _configure(workdir: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    key_file = _private(workdir / "key.pem", PEM_CONTENT)
    _private(
        workdir / ".env",
        f"SPOTDESK_MODE=testnet\nSPOTDESK_API_SECRET={SECRET}\n"
        f"SPOTDESK_PRIVATE_KEY_FILE={key_file}\nSPOTDESK_RISK__DAILY_LOSS_LIMIT=250\n"
        "SPOTDESK_TYPO=1\n",
    )
    monkeypatch.setenv("SPOTDESK_MODE", "sim")  # the environment wins over .env
    monkeypatch.setenv("SPOTDESK_API_KEY", KEY)
    monkeypatch.setenv("SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS", "margin, no_ip_restriction")
    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(workdir / "data"))
    return key_file


def test_config_shows_sources_and_masks_secrets(
    workdir: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = _configure(workdir, monkeypatch)
    assert main(["config"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:2] == [
        "spotdesk configuration: mode sim, account default",
        f"  .env file: {workdir / '.env'} (read); the environment wins over it",
    ]
    for expected in (
        "SPOTDESK_MODE = sim  [env]",
        "SPOTDESK_ACCOUNT = default  [default]",
        f"SPOTDESK_DATA_DIR = {workdir / 'data'}  [env]",
        "SPOTDESK_API_KEY = KEYC...wxyz  [env]",
        "SPOTDESK_API_SECRET = **********  [.env]",
        f"SPOTDESK_PRIVATE_KEY_FILE = {key_file}  [.env]",
        "SPOTDESK_RISK__DAILY_LOSS_LIMIT = 250  [.env]",
        "SPOTDESK_SIM__PORT = 8765  [default]",
        "SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS = margin,no_ip_restriction  [env]",
    ):
        assert expected in lines
    assert lines[lines.index("SPOTDESK_MODE = sim  [env]") + 1] == (
        "    sim (default), testnet or live."
    )
    assert lines[-1] == "warning: SPOTDESK_TYPO is not a spotdesk setting and is ignored"
    for canary in (SECRET, PEM_CONTENT, KEY[4:-4]):
        assert canary not in out + err
    assert err == ""


def test_config_as_json(
    workdir: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(workdir, monkeypatch)
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    body = json.loads(out)
    rows = {row["name"]: row for row in body["settings"]}
    assert body["env_file"] == str(workdir / ".env")
    assert body["env_file_found"] is True
    assert body["unknown"] == ["SPOTDESK_TYPO"]
    assert rows["SPOTDESK_API_KEY"] == {
        "name": "SPOTDESK_API_KEY",
        "value": "KEYC...wxyz",
        "source": "env",
        "description": "Binance API key.",
        "secret": True,
    }
    assert (rows["SPOTDESK_API_SECRET"]["value"], rows["SPOTDESK_API_SECRET"]["source"]) == (
        "**********",
        ".env",
    )
    assert rows["SPOTDESK_SIM__SEED"]["source"] == "default"
    assert SECRET not in out and PEM_CONTENT not in out


def test_short_keys_are_hidden_whole() -> None:
    assert (mask_key("abc"), mask_key("abcdefghijk"), mask_key("abcdefghijkl")) == (
        "****",
        "****",
        "abcd...ijkl",
    )


def test_key_risks_read_comma_separated_or_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS", "Margin, futures")
    assert Settings(_env_file=None).preflight.accept_key_risks == {  # type: ignore[call-arg]
        KeyRisk.MARGIN,
        KeyRisk.FUTURES,
    }
    monkeypatch.setenv("SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS", '["no_ip_restriction"]')
    assert Settings(_env_file=None).preflight.accept_key_risks == {  # type: ignore[call-arg]
        KeyRisk.NO_IP_RESTRICTION
    }


CANARY = "CANARY7f3e"

INVALID = [
    ("SPOTDESK_MODE", CANARY, "SPOTDESK_MODE: Input should be 'sim', 'testnet' or 'live'"),
    (
        "SPOTDESK_SIM__PORT",
        CANARY,
        "SPOTDESK_SIM__PORT: Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "SPOTDESK_RISK__DAILY_LOSS_LIMIT",
        CANARY,
        "SPOTDESK_RISK__DAILY_LOSS_LIMIT: Input should be a valid decimal",
    ),
    (
        "SPOTDESK_ACCOUNT",
        f"{CANARY}/x",
        "SPOTDESK_ACCOUNT: String should match pattern '^[a-z0-9][a-z0-9_-]{0,31}$'",
    ),
    (
        "SPOTDESK_RISK",
        f'{{"daily_loss_limit": {CANARY}}}',
        'error parsing value for field "risk" from source "EnvSettingsSource"; a section set '
        "as one variable must be valid JSON",
    ),
    (
        "SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS",
        f"margin,{CANARY}",
        "SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS__1: Input should be 'withdrawals', "
        "'internal_transfer', 'universal_transfer', 'margin', 'futures' or 'no_ip_restriction'",
    ),
]


@pytest.mark.parametrize(("name", "value", "line"), INVALID, ids=[i[0] for i in INVALID])
@pytest.mark.parametrize("command", [["config"], ["status"], ["check", "--json"], []])
def test_settings_errors_never_echo_the_values(
    name: str,
    value: str,
    line: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("SPOTDESK_API_SECRET", f"{CANARY}-secret")  # a valid secret beside it
    assert main(command, desk=lambda settings: 0) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"spotdesk: configuration error: {line}\n")
    assert CANARY not in out + err


def test_a_validator_quoting_its_input_is_masked() -> None:
    class Quoting(BaseModel):
        secret_word: str

        @field_validator("secret_word")
        @classmethod
        def _refuse(cls, value: str) -> str:
            raise ValueError(f"{value} is not allowed")

    with pytest.raises(ValidationError) as raised:
        Quoting(secret_word=CANARY)
    assert settings_error_lines(raised.value) == [
        "SPOTDESK_SECRET_WORD: Value error, *** is not allowed"
    ]


def test_the_command_line_sets_a_private_umask(capsys: pytest.CaptureFixture[str]) -> None:
    previous = os.umask(0o022)
    try:
        assert main(["config"]) == 0
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(previous)
    capsys.readouterr()
