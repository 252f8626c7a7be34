"""`spotdesk export trades|orders|audit --csv FILE`: the journal's records as CSV.

The journal of the configured mode and account is opened read-only, so the export works whether
or not the engine runs (SQLite's WAL lets a reader see every committed row without the engine's
lock). Amounts are written exactly as journaled (decimal text, never through a float), times as
ISO-8601 UTC (`2026-01-05T12:00:00.000000Z`). The file is created 0600 and complete or not at
all (written aside, then moved in place); an existing file is replaced only with --force. Free
text (messages, parameters) that a spreadsheet would run as a formula starts with a `'`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import pathlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.commands.exitcodes import (
    EPILOG,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)
from engine.commands.session import complain, load_settings, say

FILE_MODE = 0o600
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

TRADE_COLUMNS = (
    "time",
    "symbol",
    "trade_id",
    "order_id",
    "client_order_id",
    "side",
    "qty",
    "price",
    "quote_qty",
    "commission",
    "commission_asset",
    "fee_price",
    "is_maker",
)
ORDER_COLUMNS = (
    "created_at",
    "updated_at",
    "client_order_id",
    "order_id",
    "symbol",
    "side",
    "type",
    "time_in_force",
    "state",
    "qty",
    "price",
    "stop_price",
    "quote_qty",
    "cum_qty",
    "cum_quote",
    "origin",
    "order_list_id",
    "reject_reason",
    "expiry_reason",
    "settled",
)
AUDIT_COLUMNS = (
    "id",
    "time",
    "finished_at",
    "os_user",
    "terminal",
    "client",
    "action",
    "confirmed",
    "outcome",
    "message",
    "params",
)


class ExportError(Exception):
    """The export cannot be made; the message says why and `exit_code` how it ends."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export",
        help="write trades, orders or the audit trail to a CSV file",
        description="Read the journal of the configured mode and account (the engine may be "
        "running or not) and write one kind of record as CSV: amounts exactly as journaled, "
        "times in UTC. The file is created readable by you only.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("kind", choices=sorted(KINDS), help="what to export")
    export.add_argument("--csv", required=True, type=pathlib.Path, metavar="FILE")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_USAGE
    from engine.service.process import account_name  # the engine's, loaded only here
    from engine.service.profile import journal_path

    journal = journal_path(settings, account_name(settings))
    try:
        count = export(journal, args.kind, args.csv, force=args.force)
    except ExportError as error:
        complain(f"export: {error}")
        return error.exit_code
    noun = {"trades": "trade", "orders": "order", "audit": "audit row"}[args.kind]
    say(f"spotdesk export: {count} {noun}{'' if count == 1 else 's'} written to {args.csv}")
    return EXIT_OK


def export(journal: pathlib.Path, kind: str, target: pathlib.Path, *, force: bool) -> int:
    """Write the `kind` records of the journal at `journal` to `target`; returns the row count.
    Raises ExportError (file exists without `force`, no journal, unreadable journal...)."""
    columns, rows = KINDS[kind]
    if target.exists() and not force:
        raise ExportError(f"{target} exists; add --force to replace it", EXIT_REFUSED)
    with _read_only(journal) as conn:
        return _write_atomically(target, columns, rows(conn), force=force)


@contextlib.contextmanager
def _read_only(journal: pathlib.Path) -> Iterator[sqlite3.Connection]:
    if not journal.is_file():
        raise ExportError(
            f"no journal at {journal}: no engine has run for this mode and account "
            "(SPOTDESK_MODE, SPOTDESK_ACCOUNT, SPOTDESK_DATA_DIR)",
            EXIT_UNAVAILABLE,
        )
    try:
        conn = sqlite3.connect(f"{journal.absolute().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as error:
        raise ExportError(f"cannot open {journal}: {error}", EXIT_UNAVAILABLE) from None
    try:
        conn.execute("PRAGMA query_only = 1")
        yield conn
    except sqlite3.Error as error:
        raise ExportError(f"cannot read {journal}: {error}", EXIT_UNAVAILABLE) from None
    finally:
        conn.close()


def _write_atomically(
    target: pathlib.Path, columns: Sequence[str], rows: Iterator[list[str]], *, force: bool
) -> int:
    """Write beside `target`, then move in place: a reader never sees half a file, and without
    `force` an existing file is never replaced, even one created meanwhile."""
    aside = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError as error:
        raise ExportError(f"cannot create {target}: {error.strerror}", EXIT_USAGE) from None
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(row)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(aside, target)
        else:
            try:
                os.link(aside, target)
            except FileExistsError:
                raise ExportError(
                    f"{target} exists; add --force to replace it", EXIT_REFUSED
                ) from None
    except OSError as error:
        raise ExportError(f"cannot write {target}: {error.strerror}", EXIT_USAGE) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)
    return count


# -- the rows ---------------------------------------------------------------------------------


def _trades(conn: sqlite3.Connection) -> Iterator[list[str]]:
    query = "SELECT ts, symbol, trade_id, client_order_id, payload FROM fills"
    for ts, symbol, trade_id, client_order_id, payload in conn.execute(
        f"{query} ORDER BY ts, symbol, trade_id"
    ):
        fill = _payload(payload)
        yield [
            _utc(ts),
            symbol,
            str(trade_id),
            *_fields(fill, ("order_id",)),
            client_order_id,
            *_fields(
                fill,
                (
                    "side",
                    "qty",
                    "price",
                    "quote_qty",
                    "commission",
                    "commission_asset",
                    "fee_price",
                    "is_maker",
                ),
            ),
        ]


def _orders(conn: sqlite3.Connection) -> Iterator[list[str]]:
    query = "SELECT client_order_id, symbol, state, terminal, payload FROM orders ORDER BY rowid"
    for client_order_id, symbol, state, terminal, payload in conn.execute(query):
        order = _payload(payload)
        yield [
            _utc(order.get("created_at")),
            _utc(order.get("updated_at")),
            client_order_id,
            *_fields(order, ("order_id",)),
            symbol,
            *_fields(
                order,
                ("side", "type", "time_in_force"),
            ),
            state,
            *_fields(
                order,
                ("qty", "price", "stop_price", "quote_qty", "cum_qty", "cum_quote", "origin"),
            ),
            *_fields(order, ("order_list_id",)),
            *(_free_text(text) for text in _fields(order, ("reject_reason", "expiry_reason"))),
            _cell(bool(terminal)),
        ]


def _audit(conn: sqlite3.Connection) -> Iterator[list[str]]:
    query = (
        "SELECT id, ts, os_user, terminal, action, params, confirmed, result "
        "FROM operator_actions ORDER BY id"
    )
    for row_id, ts, os_user, terminal, action, params, confirmed, result in conn.execute(query):
        outcome = _result(result)
        yield [
            str(row_id),
            _utc(ts),
            _utc(outcome.get("finished_at")),
            _free_text(os_user),
            _free_text(terminal),
            _free_text(_cell(outcome.get("client"))),
            action,
            _cell(bool(confirmed)),
            _cell(outcome.get("outcome")),
            _free_text(_cell(outcome.get("message"))),
            _free_text(params),
        ]


KINDS: Mapping[str, tuple[Sequence[str], Callable[[sqlite3.Connection], Iterator[list[str]]]]] = {
    "trades": (TRADE_COLUMNS, _trades),
    "orders": (ORDER_COLUMNS, _orders),
    "audit": (AUDIT_COLUMNS, _audit),
}


def _payload(text: str) -> dict[str, Any]:
    # Numbers are strings in payloads; an unexpected JSON number is kept exact, never a float.
    raw = json.loads(text, parse_float=str, parse_int=str)
    return raw if isinstance(raw, dict) else {}


def _result(text: str) -> dict[str, Any]:
    """An audit row's result: a JSON object (engine/service/audit.py) or, from before, a word."""
    try:
        raw = json.loads(text, parse_float=str, parse_int=str)
    except ValueError:
        return {"outcome": text}
    return raw if isinstance(raw, dict) else {"outcome": text}


def _fields(record: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    return [_cell(record.get(name)) for name in names]


def _cell(value: object) -> str:
    """A CSV cell: empty for none, true/false for flags, text as it is (decimals included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _utc(text: object) -> str:
    """An ISO-8601 time as UTC with microseconds and a Z; empty when unknown."""
    if not isinstance(text, str) or not text:
        return ""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # the journal only stores aware times; never guess otherwise
        raise ExportError(f"a journaled time has no time zone: {text!r}", EXIT_UNAVAILABLE)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _free_text(text: str) -> str:
    """Text a spreadsheet would take for a formula is quoted with a leading `'`."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text
