"""`spotdesk order buy ... --sl/--tp/--trail`: the SubmitOrder arguments that arm protection."""

from __future__ import annotations

import argparse

import pytest

from engine.commands import order_cmd


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spotdesk")
    order_cmd.register(parser.add_subparsers())
    return parser.parse_args(["order", *argv])


def test_sl_and_tp_become_submit_arguments() -> None:
    args = parsed("buy", "BTCUSDT", "0.01", "--sl", "90000", "--tp", "100000.5")
    assert order_cmd.protection_args(args) == {"stop_loss": "90000", "take_profit": "100000.5"}


def test_trail_is_whole_bips() -> None:
    args = parsed("buy", "BTCUSDT", "0.01", "--trail", "150")
    assert order_cmd.protection_args(args) == {"trailing_delta_bips": 150}


def test_no_protection_adds_nothing() -> None:
    assert order_cmd.protection_args(parsed("sell", "BTCUSDT", "0.01")) == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("sell", "BTCUSDT", "0.01", "--sl", "90000"), "--sl, --tp and --trail protect a buy"),
        (("buy", "BTCUSDT", "0.01", "--sl", "9", "--trail", "100"), "give --sl or --trail"),
    ],
)
def test_clashes_are_usage_errors(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        order_cmd.protection_args(parsed(*argv))
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
