"""Payload views as clients see them: times keep their own offset, whatever was formatted before;
the views the journal trusts hold only JSON types."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.core.events import (
    BalanceChanged,
    Event,
    OrderAccepted,
    OrderCancelRejected,
    OrderPartiallyFilled,
    PositionChanged,
    PositionOversold,
    ReportUnmatched,
)
from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport, FillReport
from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce
from engine.journal.codec import PlainPayload, encode
from engine.journal.codec import _already_plain as already_plain
from engine.service.payloads import balance_json, decimal_text, event_payload
from engine.service.records import fill_payload


def _balance(time: datetime) -> BalanceReport:
    return BalanceReport(asset="BTC", free=Decimal("1.50000000"), locked=Decimal(0), time=time)


def test_the_same_instant_in_two_zones_keeps_each_zones_text() -> None:
    # UTC times are formatted once and remembered; an equal instant in another zone is a
    # different text and must not be served the remembered one.
    utc = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    eastern = utc.astimezone(timezone(timedelta(hours=-5)))
    assert utc == eastern
    assert balance_json(_balance(utc)) == {
        "asset": "BTC",
        "free": "1.50000000",
        "locked": "0",
        "time": "2026-01-02T03:04:05.006000+00:00",
    }
    assert balance_json(_balance(eastern))["time"] == "2026-01-01T22:04:05.006000-05:00"
    assert balance_json(_balance(utc))["time"] == "2026-01-02T03:04:05.006000+00:00"
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert balance_json(_balance(whole_second))["time"] == "2026-01-02T03:04:05+00:00"


def _order() -> Order:
    return Order(
        client_order_id="sd-a1-7",
        symbol="BTCUSDT",
        origin=Origin.DESK,
        state=OrderState.PARTIALLY_FILLED,
        last_known_state=OrderState.PARTIALLY_FILLED,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.5"),
        price=Decimal("60000.00"),
        time_in_force=TimeInForce.GTC,
        order_id=42,
        cum_qty=Decimal("0.2"),
        cum_quote=Decimal("12000.000"),
        created_at=datetime(2026, 1, 2, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC),
    )


def _fill() -> FillReport:
    return FillReport(
        symbol="BTCUSDT",
        trade_id=9,
        order_id=42,
        side=Side.BUY,
        qty=Decimal("0.2"),
        price=Decimal("60000.00"),
        quote_qty=Decimal("12000.000"),
        commission=Decimal("0.0002"),
        commission_asset="BTC",
        time=datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC),
        is_maker=False,
    )


def _events() -> list[Event]:
    position = Position(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT")
    balance = _balance(datetime(2026, 1, 2, tzinfo=UTC))
    return [
        OrderAccepted(_order()),
        OrderPartiallyFilled(_order(), _fill()),
        OrderCancelRejected(_order(), "Unknown order sent."),
        PositionChanged(position, _fill()),
        BalanceChanged(balance, None),
        BalanceChanged(balance, balance),
        PositionOversold(position, Decimal("0.1"), _fill()),
    ]


@pytest.mark.parametrize("event", _events(), ids=lambda event: type(event).__name__)
def test_payloads_the_journal_trusts_hold_only_json_types(event: Event) -> None:
    # The journal encodes a PlainPayload without checking its values: it must pass the check
    # it skips, and encode to the same text as the same payload as a plain dict.
    payload = event_payload(event)
    assert type(payload) is PlainPayload
    assert already_plain(dict(payload))
    assert encode(payload) == encode(dict(payload))
    assert json.loads(encode(payload)) == payload


def test_fill_rows_the_journal_trusts_hold_only_json_types() -> None:
    payload = fill_payload(_fill(), "sd-a1-7", Decimal("0.25"))
    assert type(payload) is PlainPayload
    assert already_plain(dict(payload))
    assert encode(payload) == encode(dict(payload))
    assert payload["client_order_id"] == "sd-a1-7"
    assert payload["fee_price"] == "0.25"


def test_unknown_kinds_take_the_checking_walk() -> None:
    event = ReportUnmatched("no such order", fills=(_fill(),))
    payload = event_payload(event)
    assert type(payload) is dict
    assert payload["fills"][0]["qty"] == "0.2"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0E-8"), "0.00000000"),
        (Decimal("1.5E-7"), "0.00000015"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0"), "-0"),
        (Decimal("60000.00000000"), "60000.00000000"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("123456789012345678901234567890.5"), "123456789012345678901234567890.5"),
        (None, None),
    ],
)
def test_amounts_are_written_in_fixed_point(value: Decimal | None, text: str | None) -> None:
    assert decimal_text(value) == text
