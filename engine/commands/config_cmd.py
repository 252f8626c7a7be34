"""`spotdesk config [--json]`: the effective configuration, where each value came from, masked.

Each setting is shown as its environment variable with its value, its source (`env`: the
environment, `.env`: the .env file of the working directory, `default`) and its description.
The API key shows only its first and last 4 characters, a secret only that it is set, and the
private key file only its path: its content is never read here.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import textwrap
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, SecretStr

from engine.commands.exitcodes import EPILOG, EXIT_OK, EXIT_USAGE
from engine.commands.session import load_settings, say
from engine.config import Settings
from engine.security.permissions import ENV_FILE_NAME

PREFIX = "SPOTDESK_"
SECRET_MASK = "**********"
UNSET = "(not set)"


@dataclass(frozen=True)
class Row:
    """One setting as shown: env name, display value (masked), source, description."""

    name: str
    value: str
    source: str
    description: str
    secret: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "source": self.source,
            "description": self.description,
            "secret": self.secret,
        }


def mask_key(text: str) -> str:
    """An API key as it may be shown: its first and last 4 characters (all hidden if short)."""
    if len(text) < 12:
        return "****"
    return f"{text[:4]}...{text[-4:]}"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="the effective configuration, with secrets masked",
        description="Print every setting as its SPOTDESK_* variable with its effective value, "
        "where it came from (env: the environment; .env: the .env file in the working "
        "directory; default) and what it does. Nested sections use __ "
        "(SPOTDESK_RISK__DAILY_LOSS_LIMIT). The API key shows its first and last 4 characters; "
        "secrets and the private key's content are never shown.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print it as one JSON object")
    parser.set_defaults(run=_config)


def _config(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_USAGE
    env_file = pathlib.Path.cwd() / ENV_FILE_NAME
    rows, unknown = effective_rows(settings, env_file=env_file, environ=dict(os.environ))
    if args.json:
        body = {
            "env_file": str(env_file),
            "env_file_found": env_file.is_file(),
            "settings": [row.to_json() for row in rows],
            "unknown": unknown,
        }
        say(json.dumps(body, indent=2))
        return EXIT_OK
    found = "read" if env_file.is_file() else "not found"
    say(f"spotdesk configuration: mode {settings.mode.value}, account {settings.account}")
    say(f"  .env file: {env_file} ({found}); the environment wins over it")
    for row in rows:
        say(f"{row.name} = {row.value}  [{row.source}]")
        say(textwrap.fill(row.description, 100, initial_indent="    ", subsequent_indent="    "))
    for name in unknown:
        say(f"warning: {name} is not a spotdesk setting and is ignored")
    return EXIT_OK


def effective_rows(
    settings: Settings, *, env_file: pathlib.Path, environ: dict[str, str]
) -> tuple[list[Row], list[str]]:
    """Every leaf setting in declaration order, and SPOTDESK_* names that match none."""
    from_env = {k.upper() for k in environ if k.upper().startswith(PREFIX)}
    from_file: set[str] = set()
    if env_file.is_file():
        from_file = {k.upper() for k in dotenv_values(env_file) if k.upper().startswith(PREFIX)}
    rows: list[Row] = []
    sections: set[str] = set()
    _walk(settings, PREFIX, (), rows, sections, from_env, from_file)
    known = {row.name for row in rows} | sections
    unknown = sorted(name for name in from_env | from_file if name not in known)
    return rows, unknown


def _walk(
    model: BaseModel,
    prefix: str,
    enclosing: tuple[str, ...],
    rows: list[Row],
    sections: set[str],
    from_env: set[str],
    from_file: set[str],
) -> None:
    for field_name, info in type(model).model_fields.items():
        value = getattr(model, field_name)
        name = f"{prefix}{field_name.upper()}"
        if isinstance(value, BaseModel):
            sections.add(name)
            _walk(value, f"{name}__", (*enclosing, name), rows, sections, from_env, from_file)
            continue
        names = (name, *enclosing)  # a section may come as one JSON variable
        source = "default"
        if any(n in from_env for n in names):
            source = "env"
        elif any(n in from_file for n in names):
            source = ".env"
        secret = isinstance(value, SecretStr)
        rows.append(Row(name, _display(field_name, value), source, info.description or "", secret))


def _display(field_name: str, value: Any) -> str:
    if value is None:
        return UNSET
    if isinstance(value, SecretStr):
        # The key identifies the account, so its ends help; a secret shows only that it is set.
        return mask_key(value.get_secret_value()) if field_name == "api_key" else SECRET_MASK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, frozenset | set | list | tuple):
        return ",".join(sorted(_display(field_name, item) for item in value)) or "(none)"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | int | float | str | pathlib.Path):
        return str(value)
    return json.dumps(value, default=str)
