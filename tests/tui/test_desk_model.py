"""The view model and the ticket's local checks, without Textual or an engine."""

from __future__ import annotations

from datetime import UTC, datetime

from tui.preview import TicketForm, local_check
from tui.state import DeskState, LogFilter, log_line

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SYMBOLS = {
    "BTCUSDT": {
        "symbol": "BTCUSDT",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "status": "TRADING",
        "tick_size": "0.01000000",
        "step_size": "0.00001000",
        "min_qty": "0.00001000",
        "min_notional": "5.00000000",
    },
    "OLDUSDT": {"symbol": "OLDUSDT", "status": "BREAK"},
}
FILL = {
    "seq": 12,
    "ts": "2026-01-05T11:59:58.000001+00:00",
    "alarm": False,
    "event": "OrderFilled",
    "fill": {
        "side": "BUY",
        "qty": "0.01000000",
        "symbol": "BTCUSDT",
        "price": "95000.01000000",
        "commission": "0.00001000",
        "commission_asset": "BTC",
    },
    "order": {"symbol": "BTCUSDT"},
}
HALT = {
    "seq": 13,
    "ts": "2026-01-05T11:59:59+00:00",
    "alarm": False,
    "event": "TradingStateChanged",
    "previous": "ACTIVE",
    "state": "HALTED",
    "reason": "emergency stop",
}


def test_events_become_log_lines_with_level_and_symbol() -> None:
    fill, halt = log_line(FILL), log_line(HALT)
    assert (fill.seq, fill.level, fill.symbol, fill.text) == (
        12,
        "info",
        "BTCUSDT",
        "Fill BUY 0.01 BTCUSDT @ 95000.01 fee 0.00001 BTC",
    )
    assert (halt.level, halt.symbol, halt.text) == (
        "warning",
        None,
        "Trading ACTIVE -> HALTED: emergency stop",
    )
    assert not LogFilter().next_level().accepts(fill)
    assert LogFilter().next_level().accepts(halt)
    assert LogFilter(symbol="btc").accepts(fill)
    assert not LogFilter(symbol="ETH").accepts(fill)


def test_events_fold_once_in_seq_order_and_stale_keeps_the_data() -> None:
    state = DeskState().with_snapshot({"seq": 13, "trading_state": "ACTIVE"}, NOW)
    assert not state.stale
    state = state.with_events([FILL, HALT], NOW).with_events([HALT], NOW)
    assert [line.seq for line in state.log] == [12, 13]
    stale = state.with_stale("engine not answering: gone")
    assert stale.stale and stale.trading_state == "ACTIVE" and stale.log == state.log


def test_unresolved_lists_unknown_external_and_watched_orders() -> None:
    snapshot = {
        "orders": {
            "open": [
                {"client_order_id": "a", "symbol": "BTCUSDT", "state": "NEW", "origin": "DESK"},
                {"client_order_id": "b", "symbol": "BTCUSDT", "state": "UNKNOWN", "origin": "DESK"},
                {"client_order_id": "c", "symbol": "ETHUSDT", "state": "NEW", "origin": "EXTERNAL"},
            ],
            "recent": [],
        },
        "watch_list": [{"client_order_id": "d", "since": "2026-01-05T11:00:00+00:00"}],
    }
    state = DeskState().with_snapshot(snapshot, NOW)
    assert [o["client_order_id"] for o in state.unresolved] == ["b", "c", "d"]


def test_local_check_rounds_toward_safety_and_says_so() -> None:
    buy = local_check(TicketForm("btcusdt", "BUY", "limit", "0.012345", "", "95000.019"), SYMBOLS)
    assert buy.error is None
    assert buy.args == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "limit",
        "quantity": "0.01234",
        "price": "95000.01",
    }
    assert buy.notes == (
        "quantity 0.012345 rounded down to 0.01234 (step 0.00001)",
        "price 95000.019 rounded down to 95000.01 (tick 0.01)",
    )
    sell = local_check(TicketForm("BTCUSDT", "SELL", "limit", "0.01", "", "95000.011"), SYMBOLS)
    assert sell.args["price"] == "95000.02"


def test_local_check_refuses_what_cannot_be_sent() -> None:
    def error(form: TicketForm) -> str | None:
        return local_check(form, SYMBOLS).error

    assert error(TicketForm("BTCUSDC", "BUY", "market", "1")) == (
        "unknown symbol (this engine trades: BTCUSDT, OLDUSDT)"
    )
    assert error(TicketForm("OLDUSDT", "BUY", "market", "1")) == "OLDUSDT is BREAK, not TRADING"
    assert error(TicketForm("BTCUSDT", "BUY", "market", "1", "100")) == (
        "give a quantity or a quote quantity (exactly one)"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "market", "-1")) == (
        "quantity must be a positive number"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "limit", "0.0001", "", "100")) == (
        "order value 0.01 is below the minimum 5"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "market", "0.000001")) == (
        "quantity below the minimum 0.00001"
    )
