"""The operator audit trail: every command an operator gives, journaled with who, what, whether
it was confirmed, how it ended and when.

Who is an `Operator`: the OS user and terminal of the client that sent the command, and which
client it was. The control client sends its own with each command (`who` in the request); the
engine's in-process client uses the engine process's. One row per command in the journal's
`operator_actions` table: `ts` (received), `os_user`, `terminal`, `action` (the command name),
`params` (its arguments, secrets masked), `confirmed` (the client said the operator confirmed
it: `confirmed: true` in the arguments) and `result`, a JSON object with `outcome`, `message`,
`client` and `finished_at` (also readable as columns of the same names). Previews
(`dry_run: true`) change nothing and are not recorded.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import socket
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from engine.journal.codec import JsonValue
from engine.journal.errors import JournalError
from engine.security.redact import MASK, Redactor, installed_redactor, is_secret_name
from engine.service.api import CommandName, CommandResult

log = logging.getLogger(__name__)

MAX_TEXT = 300  # longest string kept from a client (who, parameter values)
MAX_MESSAGE = 1000
MAX_ITEMS = 50  # entries kept of a list or mapping parameter
MAX_DEPTH = 4
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Operator:
    """Who gave a command: OS user, terminal (with the SSH client's address when remote), and
    the client program (`spotdesk order (pid 4242)`)."""

    user: str
    terminal: str
    client: str

    def to_json(self) -> dict[str, str]:
        return {"user": self.user, "terminal": self.terminal, "client": self.client}

    @classmethod
    def from_json(cls, raw: object) -> Operator | None:
        """A client's `who`, bounded and stripped of control characters; None if malformed."""
        if not isinstance(raw, Mapping):
            return None
        fields = [raw.get(name) for name in ("user", "terminal", "client")]
        if not all(isinstance(value, str) and value for value in fields):
            return None
        user, terminal, client = (_text(str(value)) for value in fields)
        return cls(user, terminal, client)


def this_process(client: str | None = None) -> Operator:
    """The operator behind this process: its user, its terminal, and `client` (default: the
    spotdesk subcommand it runs, from the command line)."""
    return Operator(_os_user(), _terminal(), _text(client or _program()))


def _os_user() -> str:
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid {uid}"
    sudo = os.environ.get("SUDO_USER")
    return _text(f"{name} (sudo by {sudo})" if sudo and sudo != name else name)


def _terminal() -> str:
    tty = "no terminal"
    for fd in (0, 1, 2):
        try:
            tty = os.ttyname(fd)
            break
        except OSError:
            continue
    remote = os.environ.get("SSH_CONNECTION", "").split()
    return _text(f"{tty} via ssh from {remote[0]}" if remote else tty)


def _program() -> str:
    words = [word for word in sys.argv[1:] if not word.startswith("-")]
    command = f"spotdesk {words[0]}" if words else os.path.basename(sys.argv[0] or "python")
    return f"{command} (pid {os.getpid()})"


def peer_operator(sock: socket.socket | None) -> Operator:
    """Who is on the other end of a Unix socket that sent no `who`: its user and pid from the
    kernel (SO_PEERCRED), its terminal unknown."""
    anonymous = Operator(UNKNOWN, UNKNOWN, "a client that did not say who it is")
    if sock is None:
        return anonymous
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", creds)
    except (OSError, AttributeError, struct.error):  # not Linux, or not a Unix socket
        return anonymous
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid {uid}"
    return Operator(name, UNKNOWN, f"a client that did not say who it is (pid {pid})")


def _text(value: str, limit: int = MAX_TEXT) -> str:
    """Printable, one line, bounded: a client's text must not rewrite a terminal or a CSV."""
    cleaned = "".join(c if c.isprintable() else " " for c in value)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def audit_params(args: Mapping[str, Any], redactor: Redactor) -> dict[str, JsonValue]:
    """The command's arguments as the audit keeps them: JSON types only, amounts as exact text
    (a float a client sent is kept as its repr), secrets masked, sizes bounded."""
    return {
        _text(str(key), 64): _param(str(key), value, redactor, 1)
        for key, value in list(args.items())[:MAX_ITEMS]
    }


def _param(key: str, value: object, redactor: Redactor, depth: int) -> JsonValue:
    if is_secret_name(key) and value is not None:
        return MASK
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum or other subclass, as its number
    if isinstance(value, str):
        return _text(redactor.redact(value))
    if isinstance(value, Decimal | float):
        return str(value) if isinstance(value, Decimal) else repr(value)
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        return {
            _text(str(k), 64): _param(str(k), v, redactor, depth + 1)
            for k, v in list(value.items())[:MAX_ITEMS]
        }
    if isinstance(value, list | tuple):
        return [_param(key, item, redactor, depth + 1) for item in value[:MAX_ITEMS]]
    return f"<{type(value).__name__}>"


class OperatorActions(Protocol):
    """Where the rows go: the journal's `record_operator_action` (a future per row)."""

    def record_operator_action(
        self,
        action: str,
        params: Mapping[str, object],
        *,
        os_user: str,
        terminal: str,
        confirmed: bool,
        result: str,
        ts: datetime | None = None,
    ) -> Any: ...


class AuditTrail:
    """Journals operator actions; `record` returns once the row is durable (a failed journal is
    logged: the command has already happened, and the engine halts on journal failure anyway).
    """

    def __init__(
        self,
        journal: OperatorActions,
        clock: Callable[[], datetime],
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self._journal = journal
        self._clock = clock
        self._redactor = redactor or installed_redactor()

    async def record(
        self,
        operator: Operator,
        name: CommandName | str,
        args: Mapping[str, Any],
        result: CommandResult,
        *,
        received_at: datetime,
    ) -> None:
        """Journal one action (nothing for a preview) and wait until it is committed."""
        if args.get("dry_run") is True:
            return
        action = name.value if isinstance(name, CommandName) else _text(str(name), 64)
        outcome = {
            "outcome": result.outcome.value,
            "message": _text(self._redactor.redact(result.message), MAX_MESSAGE),
            "client": operator.client,
            "finished_at": self._clock().isoformat(),
        }
        try:
            await self._journal.record_operator_action(
                action or "?",
                audit_params(args, self._redactor),
                os_user=operator.user,
                terminal=operator.terminal,
                confirmed=args.get("confirmed") is True,
                result=json.dumps(outcome, sort_keys=True, separators=(",", ":")),
                ts=received_at,
            )
        except (JournalError, ValueError, TypeError) as error:
            log.error("the audit trail could not record %s: %s", action, error)
