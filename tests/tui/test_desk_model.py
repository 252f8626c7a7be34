"""The view model and the ticket's local checks, without Textual or an engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tui.preview import FormCheck, TicketForm, check_lines, describe, form_args, send_args
from tui.state import LOG_LIMIT, DeskState, LogFilter, log_line

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


def test_the_form_reads_into_unrounded_submit_order_arguments() -> None:
    buy = form_args(
        TicketForm("btcusdt", "BUY", "limit", "0.012345", price="95000.019", take_profit="99000"),
        SYMBOLS,
    )
    assert buy == FormCheck(
        args={
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "limit",
            "quantity": "0.012345",
            "take_profit": "99000",
            "price": "95000.019",
        }
    )
    sized = form_args(
        TicketForm("BTCUSDT", "BUY", "market", risk_stop="93000.5"), SYMBOLS, Decimal(95000)
    )
    assert sized.args == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "market",
        "size_from_stop": "93000.5",
    }


def test_the_form_refuses_what_cannot_be_sent() -> None:
    def error(form: TicketForm, mark: Decimal | None = None) -> str | None:
        return form_args(form, SYMBOLS, mark).error

    assert error(TicketForm("BTCUSDC", "BUY", "market", "1")) == (
        "unknown symbol (this engine trades: BTCUSDT, OLDUSDT)"
    )
    assert error(TicketForm("OLDUSDT", "BUY", "market", "1")) == "OLDUSDT is BREAK, not TRADING"
    assert error(TicketForm("BTCUSDT", "BUY", "market", "1", "100")) == (
        "give one of quantity, quote quantity or risk stop"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "market")) == (
        "give one of quantity, quote quantity or risk stop"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "market", "-1")) == (
        "quantity must be a positive number"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "limit", "1")) == "a limit order needs a price"
    assert error(TicketForm("BTCUSDT", "BUY", "limit", quote_quantity="5", price="1")) == (
        "a quote quantity is for market orders only"
    )
    assert error(TicketForm("BTCUSDT", "SELL", "market", "1", stop_loss="90000")) == (
        "a risk stop, stop-loss and take-profit are for a BUY"
    )
    mark = Decimal(95000)
    assert error(TicketForm("BTCUSDT", "BUY", "market", risk_stop="95000"), mark) == (
        "the risk stop 95000 must be below the entry 95000"
    )
    assert error(TicketForm("BTCUSDT", "BUY", "market", "1", stop_loss="96000"), mark) == (
        "the stop-loss 96000 must be below the entry 95000"
    )
    assert error(
        TicketForm("BTCUSDT", "BUY", "limit", "1", price="90000", take_profit="89000")
    ) == ("the take-profit 89000 must be above the entry 90000")


DRY_RUN = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "0.01234",
    "price": "95000.01",
    "requested_quantity": "0.012345",
    "requested_price": "95000.019",
    "risk": {
        "notional": "1172.30012",
        "checks": [
            {
                "rule": "BALANCE",
                "passed": True,
                "level": "ok",
                "message": "needs 1173.47 USDT",
                "values": {"asset": "USDT", "fee": "1.17230012"},
            },
            {
                "rule": "SOFT_NOTIONAL",
                "passed": True,
                "level": "warning",
                "message": "above the soft limit",
                "values": {},
            },
            {
                "rule": "ORDER_VALUE",
                "passed": False,
                "level": "breach",
                "message": "order value 1172.30012 USDT is above the maximum 1000 USDT",
                "values": {},
            },
        ],
    },
    "sizing": {
        "stop": "93000",
        "risk_per_trade": "0.01",
        "equity": "11301.2",
        "risk_amount": "113.012",
        "stop_distance": "2000.01",
        "capped_by": None,
        "cap_reason": None,
    },
}


def test_the_engine_preview_in_words_with_every_check() -> None:
    asked = {"symbol": "BTCUSDT", "side": "BUY", "type": "limit", "size_from_stop": "93000"}
    info = {**SYMBOLS["BTCUSDT"]}
    assert describe(DRY_RUN, asked, info) == [
        "BUY BTC with USDT: 0.01234 BTC limit at 95000.01, value 1172.30012 USDT, "
        "fee about 1.17230012 USDT",
        "quantity 0.012345 rounded down to 0.01234 (step 0.00001)",
        "price 95000.019 rounded down to 95000.01 (tick 0.01)",
        "sized from the stop 93000: 1% of equity 11301.2 = 113.012 USDT at risk over 2000.01 "
        "per BTC",
        "once filled, rests on the exchange: stop-loss 93000",
    ]
    assert check_lines(DRY_RUN["risk"]) == [  # type: ignore[arg-type]
        (
            "FAIL order value      order value 1172.30012 USDT is above the maximum 1000 USDT",
            "breach",
        ),
        ("warn soft notional    above the soft limit", "warning"),
        ("ok   balance          needs 1173.47 USDT", "ok"),
    ]


def test_what_is_sent_is_what_the_engine_previewed() -> None:
    asked = {"symbol": "BTCUSDT", "side": "BUY", "type": "limit", "size_from_stop": "93000",
             "price": "95000.019", "take_profit": "99000"}  # fmt: skip
    assert send_args(asked, DRY_RUN) == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "limit",
        "price": "95000.01",
        "take_profit": "99000",
        "quantity": "0.01234",
        "stop_loss": "93000",
    }


def test_the_mark_is_the_mid_price_else_the_last_trade() -> None:
    marks = [
        {"symbol": "BTCUSDT", "bid": "94999.99", "ask": "95000.01", "last": "94000"},
        {"symbol": "ETHUSDT", "bid": None, "ask": "3500.01", "last": "3499.5"},
        {"symbol": "BNBUSDT", "bid": "0", "ask": "0", "last": None},
    ]
    state = DeskState().with_snapshot({"marks": marks}, NOW)
    assert state.mark_price("BTCUSDT") == Decimal("95000.00")
    assert state.mark_price("ETHUSDT") == Decimal("3499.5")
    assert state.mark_price("BNBUSDT") is None
    assert state.mark_price("SOLUSDT") is None


def test_the_log_keeps_the_last_500_events() -> None:
    events = [{**FILL, "seq": seq} for seq in range(1, 1201)]
    state = DeskState().with_events(events[:700], NOW).with_events(events[700:], NOW)
    assert len(state.log) == LOG_LIMIT == 500
    assert (state.log[0].seq, state.log[-1].seq, state.event_seq) == (701, 1200, 1200)
