"""Binance JSON to reports, with payloads shaped after the Binance Spot API docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from engine.core.reports import BalanceDeltaReport, BalanceReport, FillReport, OrderStatusReport
from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.venue.parse import (
    AccountPosition,
    ExecutionUpdate,
    MalformedPayload,
    parse_account,
    parse_account_position,
    parse_balance_update,
    parse_execution_report,
    parse_my_trade,
    parse_order,
    parse_order_response,
    parse_user_event,
)

D = Decimal
T_MS = 1_767_225_600_000


def ms(offset: int = 0) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=offset)


def execution_report(**overrides: Any) -> dict[str, Any]:
    """A NEW executionReport for a LIMIT buy, every field as Binance sends it."""
    event: dict[str, Any] = {
        "e": "executionReport",
        "E": T_MS + 1,
        "s": "BTCUSDT",
        "c": "sd-a1-7",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.50000000",
        "p": "60000.00000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": 4293153,
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": T_MS,
        "t": -1,
        "I": 8641984,
        "w": True,
        "m": False,
        "M": False,
        "O": T_MS,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": T_MS,
        "V": "EXPIRE_MAKER",
    }
    event.update(overrides)
    return event


def test_new_execution_report() -> None:
    update = parse_execution_report(execution_report())
    assert update.fill is None
    assert update.status == OrderStatusReport(
        symbol="BTCUSDT",
        client_order_id="sd-a1-7",
        order_id=4293153,
        state=OrderState.NEW,
        cum_qty=D(0),
        cum_quote=D(0),
        transact_time=ms(),
        orig_client_order_id=None,
        order_list_id=None,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=D("0.5"),
        price=D(60000),
        stop_price=None,
        quote_qty=None,
        execution_type="NEW",
    )
    assert update.status.transact_time.tzinfo is UTC


def test_trade_execution_report_carries_its_fill() -> None:
    update = parse_execution_report(
        execution_report(
            x="TRADE",
            X="PARTIALLY_FILLED",
            l="0.20000000",
            z="0.20000000",
            L="59999.99000000",
            n="0.00001485",
            N="BNB",
            t=28457,
            m=True,
            Z="11999.99800000",
            Y="11999.99800000",
            T=T_MS + 250,
        )
    )
    assert update.status.state is OrderState.PARTIALLY_FILLED
    assert (update.status.cum_qty, update.status.cum_quote) == (D("0.2"), D("11999.998"))
    assert update.fill == FillReport(
        symbol="BTCUSDT",
        trade_id=28457,
        order_id=4293153,
        client_order_id="sd-a1-7",
        side=Side.BUY,
        qty=D("0.2"),
        price=D("59999.99"),
        quote_qty=D("11999.998"),
        commission=D("0.00001485"),
        commission_asset="BNB",
        is_maker=True,
        time=ms(250),
    )


def test_a_trade_without_last_quote_qty_computes_it() -> None:
    raw = execution_report(
        x="TRADE", X="FILLED", l="0.5", z="0.5", L="100.10", t=9, N="USDT", n="0.05005"
    )
    del raw["Y"]
    update = parse_execution_report(raw)
    assert update.fill is not None and update.fill.quote_qty == D("50.050")


def test_cancel_report_keeps_both_ids() -> None:
    update = parse_execution_report(
        execution_report(x="CANCELED", X="CANCELED", c="sd-a1-8", C="sd-a1-7", g=12)
    )
    status = update.status
    assert (status.client_order_id, status.orig_client_order_id) == ("sd-a1-8", "sd-a1-7")
    assert status.order_client_id == "sd-a1-7" and status.order_list_id == 12


def test_expired_and_rejected_reasons() -> None:
    expired = parse_execution_report(
        execution_report(o="MARKET", x="EXPIRED", X="EXPIRED", eR="INSUFFICIENT_LIQUIDITY")
    ).status
    assert (expired.state, expired.expiry_reason) == (OrderState.EXPIRED, "INSUFFICIENT_LIQUIDITY")
    stp = parse_execution_report(
        execution_report(x="TRADE_PREVENTION", X="EXPIRED_IN_MATCH", v=3)
    ).status
    assert (stp.state, stp.expiry_reason) == (OrderState.EXPIRED, "EXPIRED_IN_MATCH")
    rejected = parse_execution_report(
        execution_report(x="REJECTED", X="REJECTED", r="INSUFFICIENT_BALANCES")
    ).status
    assert (rejected.state, rejected.reject_reason) == (
        OrderState.REJECTED,
        "INSUFFICIENT_BALANCES",
    )


def test_a_zero_quantity_means_not_known() -> None:
    status = parse_execution_report(
        execution_report(o="MARKET", q="0.00000000", p="0.00000000", Q="50.0")
    ).status
    assert (status.qty, status.quote_qty, status.price) == (None, D(50), None)


def test_stop_and_trailing_fields() -> None:
    status = parse_execution_report(
        execution_report(o="STOP_LOSS_LIMIT", P="59000.00000000", d=100, Q="0")
    ).status
    assert (status.type, status.stop_price, status.trailing_delta) == (
        OrderType.STOP_LOSS_LIMIT,
        D(59000),
        100,
    )


def test_envelope_and_dispatch() -> None:
    update = parse_user_event({"subscriptionId": 0, "event": execution_report()})
    assert isinstance(update, ExecutionUpdate) and update.status.order_id == 4293153
    assert parse_user_event({"e": "listStatus", "s": "BTCUSDT"}) is None
    assert parse_user_event({"e": "eventStreamTerminated", "E": 1}) is None
    position = parse_user_event({"e": "outboundAccountPosition", "E": T_MS, "u": T_MS, "B": []})
    assert position == AccountPosition(())
    delta = parse_user_event({"e": "balanceUpdate", "E": T_MS, "a": "BTC", "d": "1", "T": T_MS})
    assert delta == BalanceDeltaReport("BTC", D(1), ms())
    with pytest.raises(MalformedPayload, match="no event type"):
        parse_user_event({"E": 1})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"z": 0.2}, r"executionReport\.z: expected a decimal string, got float"),
        ({"X": "PENDING_CANCEL"}, "unknown order status 'PENDING_CANCEL'"),
        ({"S": "HOLD"}, "unknown Side 'HOLD'"),
        ({"o": "ICEBERG"}, "unknown OrderType"),
        ({"i": "4293153"}, r"executionReport\.i: expected an integer"),
        ({"i": True}, r"executionReport\.i: expected an integer"),
        ({"e": "trade"}, "event type is 'trade'"),
        ({"x": "TRADE", "t": -1}, "TRADE without a trade id"),
        ({"x": "TRADE", "t": 5, "n": "0.1", "N": None}, "without a commission asset"),
        ({"x": "TRADE", "t": 5, "m": "false"}, r"executionReport\.m: expected true or false"),
        ({"s": "BTC\x1b[2J"}, "control characters"),
        ({"c": "sd-\x9b31m"}, r"executionReport\.c: control characters"),
        ({"r": "NONE\x07"}, r"executionReport\.r: control characters"),
        ({"c": ""}, r"executionReport\.c: expected a non-empty string"),
        ({"s": "B" * 257}, r"executionReport\.s: string longer than 256"),
        ({"T": 1.5}, r"executionReport\.T: expected an integer"),
        ({"q": "-1"}, "negative value"),
        ({"z": "-0.1"}, r"executionReport\.z: negative value"),
        ({"p": "NaN"}, r"executionReport\.p: not a finite number"),
        ({"z": "0.2x"}, r"executionReport\.z: not a decimal number"),
    ],
)
def test_malformed_execution_reports_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        parse_execution_report(execution_report(**overrides))


def test_long_and_unusual_text_takes_the_full_check() -> None:
    # Past the inline check's 64 characters, and printable-false without a control character
    # (a zero-width space): both still accepted, as the full check accepts them.
    long_id = "c" * 200
    update = parse_execution_report(execution_report(c=long_id, C="x\u200by"))
    assert update.status.client_order_id == long_id
    assert update.status.orig_client_order_id == "x\u200by"


def test_repeated_amounts_parse_to_the_same_exact_values() -> None:
    first = parse_execution_report(execution_report(q="0.50000000", z="-0"))
    second = parse_execution_report(execution_report(q="0.50000000", z="-0"))
    for update in (first, second):
        assert update.status.qty == D("0.50000000")
        assert str(update.status.qty) == "0.50000000"
        assert str(update.status.cum_qty) == "-0"  # accepted, as the full check accepts it
    assert first.status.price == D("60000.00000000")


def test_missing_fields_are_named() -> None:
    raw = execution_report()
    del raw["z"]
    with pytest.raises(MalformedPayload, match="missing field 'z'"):
        parse_execution_report(raw)
    with pytest.raises(MalformedPayload, match="expected a JSON object"):
        parse_execution_report([])  # type: ignore[arg-type]


def test_extra_fields_are_ignored() -> None:
    update = parse_execution_report(execution_report(zz="new field", pY="1", Cs="x"))
    assert update.status.state is OrderState.NEW


RESULT: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "orderId": 28,
    "orderListId": -1,
    "clientOrderId": "sd-a1-9",
    "transactTime": T_MS,
    "price": "0.00000000",
    "origQty": "10.00000000",
    "executedQty": "10.00000000",
    "origQuoteOrderQty": "0.000000",
    "cummulativeQuoteQty": "39988.00000000",
    "status": "FILLED",
    "timeInForce": "GTC",
    "type": "MARKET",
    "side": "SELL",
    "workingTime": T_MS,
    "selfTradePreventionMode": "NONE",
}


def test_ack_response_is_a_new_order() -> None:
    response = parse_order_response(
        {
            "symbol": "BTCUSDT",
            "orderId": 28,
            "orderListId": -1,
            "clientOrderId": "sd-a1-9",
            "transactTime": T_MS,
        }
    )
    assert response.fills == ()
    assert response.status == OrderStatusReport(
        symbol="BTCUSDT",
        client_order_id="sd-a1-9",
        order_id=28,
        state=OrderState.NEW,
        cum_qty=D(0),
        cum_quote=D(0),
        transact_time=ms(),
    )


def test_result_response() -> None:
    response = parse_order_response(RESULT)
    assert response.fills == ()
    status = response.status
    assert (status.state, status.side, status.type, status.price, status.quote_qty) == (
        OrderState.FILLED,
        Side.SELL,
        OrderType.MARKET,
        None,
        None,
    )
    assert (status.qty, status.cum_qty, status.cum_quote) == (D(10), D(10), D(39988))


def test_full_response_fills() -> None:
    body = dict(RESULT)
    body["fills"] = [
        {
            "price": "4000.00000000",
            "qty": "1.00000000",
            "commission": "4.00000000",
            "commissionAsset": "USDT",
            "tradeId": 56,
        },
        {
            "price": "3998.66666667",
            "qty": "9.00000000",
            "commission": "35.98800000",
            "commissionAsset": "USDT",
            "tradeId": 57,
        },
    ]
    response = parse_order_response(body)
    assert [f.trade_id for f in response.fills] == [56, 57]
    second = response.fills[1]
    assert (second.symbol, second.order_id, second.client_order_id, second.side) == (
        "BTCUSDT",
        28,
        "sd-a1-9",
        Side.SELL,
    )
    assert second.quote_qty == D("35988.00000003")
    assert (second.commission, second.commission_asset, second.is_maker, second.time) == (
        D("35.988"),
        "USDT",
        False,
        ms(),
    )
    body["fills"] = {"price": "1"}
    with pytest.raises(MalformedPayload, match="fills: expected a list"):
        parse_order_response(body)


def test_cancel_response() -> None:
    status = parse_order(
        {
            "symbol": "LTCBTC",
            "origClientOrderId": "sd-a1-1",
            "orderId": 4,
            "orderListId": -1,
            "clientOrderId": "sd-a1-2",
            "transactTime": T_MS,
            "price": "2.00000000",
            "origQty": "1.00000000",
            "executedQty": "0.00000000",
            "origQuoteOrderQty": "0.000000",
            "cummulativeQuoteQty": "0.00000000",
            "status": "CANCELED",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": "BUY",
            "selfTradePreventionMode": "NONE",
        }
    )
    assert (status.order_client_id, status.client_order_id, status.state) == (
        "sd-a1-1",
        "sd-a1-2",
        OrderState.CANCELED,
    )


def test_query_response_uses_update_time_and_reads_extras() -> None:
    status = parse_order(
        {
            "symbol": "LTCBTC",
            "orderId": 1,
            "orderListId": 5,
            "clientOrderId": "myOrder1",
            "price": "0.1",
            "origQty": "1.0",
            "executedQty": "0.0",
            "cummulativeQuoteQty": "-1.0",
            "status": "EXPIRED",
            "timeInForce": "IOC",
            "type": "TAKE_PROFIT_LIMIT",
            "side": "BUY",
            "stopPrice": "0.2",
            "icebergQty": "0.0",
            "time": T_MS,
            "updateTime": T_MS + 5,
            "isWorking": True,
            "workingTime": T_MS,
            "origQuoteOrderQty": "0.000000",
            "selfTradePreventionMode": "NONE",
            "expiryReason": "UNFILLED_IOC_QUANTITY_EXPIRED",
            "trailingDelta": 250,
        }
    )
    assert status.transact_time == ms(5)
    assert (status.cum_quote, status.stop_price, status.order_list_id) == (D(0), D("0.2"), 5)
    assert (status.time_in_force, status.trailing_delta) == (TimeInForce.IOC, 250)
    assert status.expiry_reason == "UNFILLED_IOC_QUANTITY_EXPIRED"
    with pytest.raises(MalformedPayload, match="no transactTime, updateTime or time"):
        parse_order({k: v for k, v in RESULT.items() if k != "transactTime"})


def test_amended_order_shape() -> None:
    status = parse_order(
        {
            "symbol": "BTCUSDT",
            "orderId": 33,
            "orderListId": -1,
            "origClientOrderId": "sd-a1-3",
            "clientOrderId": "sd-a1-4",
            "price": "6.00000000",
            "qty": "5.00000000",
            "executedQty": "0.00000000",
            "preventedQty": "0.00000000",
            "quoteOrderQty": "0.00000000",
            "cumulativeQuoteQty": "0.00000000",
            "status": "NEW",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": "SELL",
            "workingTime": T_MS,
            "selfTradePreventionMode": "NONE",
            "transactTime": T_MS,
        }
    )
    assert (status.qty, status.order_client_id) == (D(5), "sd-a1-3")


def test_my_trades_row() -> None:
    row = {
        "symbol": "BNBBTC",
        "id": 28457,
        "orderId": 100234,
        "orderListId": -1,
        "price": "4.00000100",
        "qty": "12.00000000",
        "quoteQty": "48.000012",
        "commission": "10.10000000",
        "commissionAsset": "BNB",
        "time": T_MS,
        "isBuyer": True,
        "isMaker": False,
        "isBestMatch": True,
    }
    assert parse_my_trade(row) == FillReport(
        symbol="BNBBTC",
        trade_id=28457,
        order_id=100234,
        client_order_id=None,
        side=Side.BUY,
        qty=D(12),
        price=D("4.000001"),
        quote_qty=D("48.000012"),
        commission=D("10.1"),
        commission_asset="BNB",
        is_maker=False,
        time=ms(),
    )
    assert parse_my_trade({**row, "isBuyer": False}).side is Side.SELL


def test_account_balances() -> None:
    body = {
        "makerCommission": 15,
        "canTrade": True,
        "updateTime": T_MS,
        "accountType": "SPOT",
        "balances": [
            {"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
            {"asset": "LTC", "free": "0.00000000", "locked": "1.50000000"},
        ],
        "permissions": ["SPOT"],
        "uid": 354937868,
    }
    assert parse_account(body) == [
        BalanceReport("BTC", D("4723846.89208129"), D(0), ms()),
        BalanceReport("LTC", D(0), D("1.5"), ms()),
    ]
    with pytest.raises(MalformedPayload, match="balances: expected a list"):
        parse_account({"updateTime": T_MS, "balances": None})


def test_outbound_account_position() -> None:
    event = {
        "e": "outboundAccountPosition",
        "E": T_MS + 10,
        "u": T_MS + 7,
        "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}],
    }
    assert parse_account_position(event) == AccountPosition(
        (BalanceReport("ETH", D(10000), D(0), ms(7)),)
    )
    without_u = {k: v for k, v in event.items() if k != "u"}
    assert parse_account_position(without_u).balances[0].time == ms(10)
    with pytest.raises(MalformedPayload, match=r"B: expected a list"):
        parse_account_position({"e": "outboundAccountPosition", "E": 1, "u": 1})


def test_balance_update_may_be_negative() -> None:
    assert parse_balance_update(
        {"e": "balanceUpdate", "E": T_MS, "a": "BTC", "d": "-0.50000000", "T": T_MS - 42}
    ) == BalanceDeltaReport("BTC", D("-0.5"), ms(-42))
