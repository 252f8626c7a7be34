"""The audit trail: every command kind a real engine takes is journaled with who, what, whether
it was confirmed, how it ended and when; in-process and over the control socket."""

from __future__ import annotations

import json
import os
import pathlib
import pwd
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "service"))

from engine_testkit import engine_for, new_account, running_sim

from engine.security.redact import MASK, Redactor
from engine.service.api import CommandName, CommandResult, Outcome
from engine.service.audit import (
    AuditTrail,
    Operator,
    audit_params,
    this_process,
)
from engine.service.control_client import SocketEngineClient
from engine.service.control_server import ControlServer

BTC = "BTCUSDT"
ALICE = Operator("alice", "/dev/pts/7 via ssh from 10.1.2.3", "spotdesk order (pid 42)")


def test_a_clients_who_is_bounded_and_printable() -> None:
    raw = {"user": "bob\x1b[31m", "terminal": "t" * 400, "client": "desk", "extra": 1}
    who = Operator.from_json(raw)
    assert who is not None
    assert (who.user, len(who.terminal), who.terminal[-1], who.client) == (
        "bob [31m",
        300,
        "…",
        "desk",
    )
    assert [Operator.from_json(bad) for bad in (None, [], {"user": "x"}, {**raw, "user": 3})] == [
        None,
        None,
        None,
        None,
    ]


def test_this_process_names_its_user_and_command(monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/spotdesk", "--debug", "panic", "--yes"])
    monkeypatch.setenv("SSH_CONNECTION", "10.9.8.7 50000 10.0.0.1 22")
    monkeypatch.delenv("SUDO_USER", raising=False)
    who = this_process()
    assert who.user == pwd.getpwuid(os.geteuid()).pw_name
    assert who.terminal.endswith(" via ssh from 10.9.8.7")
    assert who.client == f"spotdesk panic (pid {os.getpid()})"


def test_parameters_are_kept_exact_bounded_and_without_secrets() -> None:
    args = {
        "symbol": "BTCUSDT",
        "quantity": Decimal("0.01000"),
        "price": 90000.1,  # a float a careless client sent: kept as its text
        "confirmed": True,
        "nested": {"api_secret": "s3cr3t", "list": list(range(60))},
        "note": "see ?timestamp=1&signature=ff",
        "count": 3,
        "thing": object(),
    }
    kept = audit_params(args, Redactor())
    assert kept == {
        "symbol": "BTCUSDT",
        "quantity": "0.01000",
        "price": "90000.1",
        "confirmed": True,
        "nested": {"api_secret": MASK, "list": list(range(50))},
        "note": "see ?<signed query: ***>",
        "count": 3,
        "thing": "<object>",
    }


class _Journal:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    async def record_operator_action(self, action: str, params: Any, **fields: Any) -> None:
        self.rows.append((action, params, fields))


async def test_a_preview_is_not_an_action() -> None:
    journal = _Journal()
    clock = datetime(2026, 1, 5, 12, 0, 1, tzinfo=UTC)
    trail = AuditTrail(journal, lambda: clock, redactor=Redactor(["hidden-secret-1"]))
    received = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
    done = CommandResult(Outcome.REFUSED, "no: hidden-secret-1")
    await trail.record(
        ALICE, CommandName.SUBMIT_ORDER, {"dry_run": True}, done, received_at=received
    )
    await trail.record(ALICE, "Bogus\n", {"confirmed": "yes"}, done, received_at=received)
    assert journal.rows == [
        (
            "Bogus ",
            {"confirmed": "yes"},
            {
                "os_user": "alice",
                "terminal": ALICE.terminal,
                "confirmed": False,  # only a true `confirmed` counts
                "result": json.dumps(
                    {
                        "client": ALICE.client,
                        "finished_at": "2026-01-05T12:00:01+00:00",
                        "message": f"no: {MASK}",
                        "outcome": "refused",
                    },
                    separators=(",", ":"),
                ),
                "ts": received,
            },
        )
    ]


def _rows(journal: pathlib.Path) -> list[tuple[Any, ...]]:
    """The audit rows as an operator's SQLite shell reads them (migration 3's columns)."""
    conn = sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT ts, os_user, terminal, client, action, params, confirmed, outcome, message, "
            "finished_at FROM operator_actions ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


async def test_every_command_kind_is_audited_with_who_what_and_result(
    tmp_path: pathlib.Path,
) -> None:
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            CommandName.SUBMIT_ORDER,
            {
                "symbol": BTC,
                "side": "BUY",
                "type": "limit",
                "quantity": "0.01",
                "price": "90000",
                "dry_run": True,
            },
        ),
        (
            CommandName.SUBMIT_ORDER,
            {
                "symbol": BTC,
                "side": "BUY",
                "type": "limit",
                "quantity": "0.01",
                "price": "90000",
                "confirmed": True,
            },
        ),
        (CommandName.SET_PROTECTION, {"symbol": BTC, "stop_loss": "80000"}),
        (CommandName.CLEAR_PROTECTION, {"symbol": BTC}),
        (CommandName.CANCEL_ORDER, {"client_order_id": "no-such-order"}),
        (CommandName.CANCEL_ALL_ORDERS, {"symbol": BTC}),
        (CommandName.CLOSE_POSITION, {"symbol": BTC, "confirmed": True}),
        (CommandName.REDUCE, {"reason": "audit test"}),
        (CommandName.HALT, {"reason": "audit test"}),
        (CommandName.ARM, {"reason": "audit test"}),
        (CommandName.RECONCILE, {}),
        (CommandName.EMERGENCY_STOP, {"reason": "audit drill", "confirmed": True}),
        (CommandName.CONFIRM_LIVE, {"typed": "LIVE"}),  # the LIVE gate's; the engine refuses
        ("Bogus", {}),
        (CommandName.STOP_ENGINE, {}),
    ]
    me = this_process("in-process")
    results: list[CommandResult] = []
    async with running_sim() as sim:
        account = await new_account(sim, {"USDT": "10000", "BTC": "0.5"})
        engine = engine_for(sim, account, tmp_path / "data", market_data=True)
        await engine.start()
        try:
            for name, args in commands:
                results.append(await engine.command(name, args))  # type: ignore[arg-type]
            await engine.stopped.wait()
        finally:
            await engine.stop()
    assert [r.outcome for r in results][-4:] == [
        Outcome.OK,  # the emergency stop
        Outcome.USAGE,
        Outcome.USAGE,
        Outcome.OK,  # stopping
    ]
    assert [r.outcome for r in results[7:10]] == [Outcome.OK] * 3  # reduce, halt, arm
    journal = tmp_path / "data" / "sim-default" / "journal.sqlite"
    rows = _rows(journal)
    expected = [
        (
            me.user,
            me.terminal,
            me.client,
            str(name),
            json.dumps(args, sort_keys=True, separators=(",", ":")),
            int(args.get("confirmed") is True),
            result.outcome.value,
            result.message,
        )
        for (name, args), result in zip(commands, results, strict=True)
        if not args.get("dry_run")
    ]
    assert [row[1:9] for row in rows] == expected
    for row in rows:
        received, finished = datetime.fromisoformat(row[0]), datetime.fromisoformat(row[9])
        assert received.tzinfo is not None and received <= finished


async def test_over_the_socket_the_clients_operator_is_recorded(tmp_path: pathlib.Path) -> None:
    async with running_sim() as sim:
        account = await new_account(sim, {"USDT": "10000"})
        engine = engine_for(sim, account, tmp_path / "data")
        await engine.start()
        try:
            with tempfile.TemporaryDirectory() as short:  # Unix socket paths are bounded
                socket = pathlib.Path(short) / "engine.sock"
                server = ControlServer(engine, socket)
                await server.start()
                try:
                    async with SocketEngineClient(socket, operator=ALICE) as client:
                        halted = await client.command(CommandName.HALT, {"reason": "remote"})
                    connector = aiohttp.UnixConnector(path=str(socket))
                    async with (
                        aiohttp.ClientSession(connector=connector) as http,
                        http.post(
                            "http://engine/command", json={"name": "Arm", "args": {"reason": "x"}}
                        ) as response,
                    ):
                        armed = CommandResult.from_json(await response.json())
                finally:
                    await server.stop()
        finally:
            await engine.stop()
    me = pwd.getpwuid(os.geteuid()).pw_name
    rows = _rows(tmp_path / "data" / "sim-default" / "journal.sqlite")
    assert [row[1:9] for row in rows] == [
        (
            "alice",
            ALICE.terminal,
            ALICE.client,
            "Halt",
            '{"reason":"remote"}',
            0,
            "ok",
            halted.message,
        ),
        (
            me,
            "unknown",
            f"a client that did not say who it is (pid {os.getpid()})",
            "Arm",
            '{"reason":"x"}',
            0,
            "ok",
            armed.message,
        ),
    ]
