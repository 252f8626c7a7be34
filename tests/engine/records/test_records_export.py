"""`spotdesk export`: exact CSV content of trades, orders and the audit trail from a journal,
whether its engine runs or not; a private file, never half written, replaced only with --force."""

from __future__ import annotations

import json
import pathlib
import stat
from datetime import UTC, datetime, timedelta

import pytest

from engine import cli
from engine.commands.export_cmd import ExportError, export
from engine.journal import Journal

START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
JOURNAL = pathlib.Path("data") / "sim-default" / "journal.sqlite"


def _fill(
    trade_id: int, cid: str, side: str, qty: str, price: str, quote: str
) -> dict[str, object]:
    return {
        "symbol": "BTCUSDT",
        "trade_id": trade_id,
        "order_id": 7,
        "side": side,
        "qty": qty,
        "price": price,
        "quote_qty": quote,
        "commission": "0.00000100",
        "commission_asset": "BNB",
        "is_maker": False,
        "time": "2026-01-05T12:00:01.250000+00:00",
        "client_order_id": cid,
        "fee_price": "612.5",
    }


ORDER = {
    "client_order_id": "sd-a-1",
    "symbol": "BTCUSDT",
    "origin": "DESK",
    "state": "FILLED",
    "side": "BUY",
    "type": "LIMIT",
    "qty": "0.00100000",
    "price": "94767.93000000",
    "stop_price": None,
    "quote_qty": None,
    "time_in_force": "GTC",
    "order_id": 7,
    "order_list_id": None,
    "cum_qty": "0.00100000",
    "cum_quote": "94.7679300000000000",
    "reject_reason": '=HYPERLINK("x")',  # text a spreadsheet would run
    "expiry_reason": None,
    "created_at": "2026-01-05T13:00:00.5+01:00",  # not UTC: converted
    "updated_at": "2026-01-05T12:00:01.250000+00:00",
}


async def _journal(base: pathlib.Path) -> Journal:
    journal = await Journal.open(base / JOURNAL, mode="sim", account="default", clock=lambda: START)
    fills = [
        (2, "sd-a-1", "BUY", "0.00060000", "94767.93000000", "56.8607580000000000"),
        (1, "sd-a-1", "BUY", "0.00040000", "94767.93000000", "37.9071720000000000"),
    ]
    for trade_id, cid, side, qty, price, quote in fills:
        await journal.record_fill(
            "BTCUSDT",
            trade_id,
            client_order_id=cid,
            payload=_fill(trade_id, cid, side, qty, price, quote),
            ts=START + timedelta(seconds=1, milliseconds=250),
        )
    await journal.upsert_order(
        "sd-a-1", symbol="BTCUSDT", state="FILLED", terminal=True, payload=ORDER
    )
    await journal.record_operator_action(
        "SubmitOrder",
        {"symbol": "BTCUSDT", "quantity": "0.00100000", "confirmed": True},
        os_user="alice",
        terminal="/dev/pts/7",
        confirmed=True,
        result=json.dumps(
            {
                "outcome": "ok",
                "message": "sd-a-1 FILLED",
                "client": "spotdesk order (pid 42)",
                "finished_at": "2026-01-05T12:00:02.000001+00:00",
            }
        ),
        ts=START + timedelta(seconds=1),
    )
    await journal.record_operator_action(
        "Halt",
        {"reason": "-lunch"},
        os_user="bob",
        terminal="no terminal",
        confirmed=False,
        result="ok",  # a row written before results were JSON
        ts=START + timedelta(seconds=2),
    )
    return journal


TRADES_CSV = (
    "time,symbol,trade_id,order_id,client_order_id,side,qty,price,quote_qty,commission,"
    "commission_asset,fee_price,is_maker\n"
    "2026-01-05T12:00:01.250000Z,BTCUSDT,1,7,sd-a-1,BUY,0.00040000,94767.93000000,"
    "37.9071720000000000,0.00000100,BNB,612.5,false\n"
    "2026-01-05T12:00:01.250000Z,BTCUSDT,2,7,sd-a-1,BUY,0.00060000,94767.93000000,"
    "56.8607580000000000,0.00000100,BNB,612.5,false\n"
)
ORDERS_CSV = (
    "created_at,updated_at,client_order_id,order_id,symbol,side,type,time_in_force,state,qty,"
    "price,stop_price,quote_qty,cum_qty,cum_quote,origin,order_list_id,reject_reason,"
    "expiry_reason,settled\n"
    "2026-01-05T12:00:00.500000Z,2026-01-05T12:00:01.250000Z,sd-a-1,7,BTCUSDT,BUY,LIMIT,GTC,"
    "FILLED,0.00100000,94767.93000000,,,0.00100000,94.7679300000000000,DESK,,"
    '"\'=HYPERLINK(""x"")",,true\n'
)
AUDIT_CSV = (
    "id,time,finished_at,os_user,terminal,client,action,confirmed,outcome,message,params\n"
    "1,2026-01-05T12:00:01.000000Z,2026-01-05T12:00:02.000001Z,alice,/dev/pts/7,"
    "spotdesk order (pid 42),SubmitOrder,true,ok,sd-a-1 FILLED,"
    '"{""confirmed"":true,""quantity"":""0.00100000"",""symbol"":""BTCUSDT""}"\n'
    "2,2026-01-05T12:00:02.000000Z,,bob,no terminal,,Halt,false,ok,,"
    '"{""reason"":""-lunch""}"\n'
)


@pytest.mark.parametrize(
    ("kind", "expected", "count"),
    [("trades", TRADES_CSV, 2), ("orders", ORDERS_CSV, 1), ("audit", AUDIT_CSV, 2)],
)
async def test_each_kind_exactly_while_the_engine_holds_the_journal_and_after(
    tmp_path: pathlib.Path, kind: str, expected: str, count: int
) -> None:
    journal = await _journal(tmp_path)
    try:
        running = tmp_path / f"{kind}-running.csv"
        assert export(tmp_path / JOURNAL, kind, running, force=False) == count
    finally:
        await journal.close()
    stopped = tmp_path / f"{kind}-stopped.csv"
    assert export(tmp_path / JOURNAL, kind, stopped, force=False) == count
    assert _read(running) == _read(stopped) == expected
    assert _mode(running) == _mode(stopped) == 0o600


def _read(path: pathlib.Path) -> str:
    return path.read_text(encoding="utf-8")


def _names(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_an_existing_file_is_replaced_only_with_force(tmp_path: pathlib.Path) -> None:
    await (await _journal(tmp_path)).close()
    target = tmp_path / "trades.csv"
    target.write_text("keep me\n")
    with pytest.raises(ExportError, match=r"trades\.csv exists; add --force") as refused:
        export(tmp_path / JOURNAL, "trades", target, force=False)
    assert (refused.value.exit_code, _read(target)) == (3, "keep me\n")
    assert export(tmp_path / JOURNAL, "trades", target, force=True) == 2
    assert (_read(target), _mode(target)) == (TRADES_CSV, 0o600)
    assert _names(tmp_path) == ["data", "trades.csv"]  # nothing left aside


def test_without_a_journal_the_error_says_where_it_looked(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ExportError, match=r"no journal at .*journal\.sqlite: no engine has run"):
        export(tmp_path / JOURNAL, "audit", tmp_path / "audit.csv", force=False)
    assert not (tmp_path / "audit.csv").exists()


def test_an_unwritable_place_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    import asyncio

    asyncio.run(_closed_journal(tmp_path))
    with pytest.raises(ExportError, match=r"cannot create .*nowhere/a\.csv") as failed:
        export(tmp_path / JOURNAL, "orders", tmp_path / "nowhere" / "a.csv", force=False)
    assert failed.value.exit_code == 2


async def _closed_journal(base: pathlib.Path) -> None:
    await (await _journal(base)).close()


def test_the_command_line(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    asyncio.run(_closed_journal(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["export", "audit", "--csv", "audit.csv"]) == 0
    assert cli.main(["export", "audit", "--csv", "audit.csv"]) == 3
    assert cli.main(["export", "trades", "--csv", "t.csv"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "spotdesk export: 2 audit rows written to audit.csv\n"
        "spotdesk export: 2 trades written to t.csv\n"
    )
    assert err == "spotdesk: export: audit.csv exists; add --force to replace it\n"
    assert _read(tmp_path / "audit.csv") == AUDIT_CSV
