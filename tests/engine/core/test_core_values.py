"""Times, strict wire values, intents, records and the JSON view of events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.core.events import OrderAdopted, OrderFilled, PositionOversold, ReportUnmatched
from engine.core.intents import OrderIntent
from engine.core.jsonable import event_to_json, to_jsonable
from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport, FillReport
from engine.core.times import ms_from_utc, utc_from_ms
from engine.core.types import OrderState, OrderType, Origin, Side
from engine.core.wire import MalformedPayload, to_decimal, to_text

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_times_are_exact_and_aware() -> None:
    moment = utc_from_ms(1_767_225_600_123)
    assert moment == datetime(2026, 1, 1, 0, 0, 0, 123_000, tzinfo=UTC)
    assert ms_from_utc(moment) == 1_767_225_600_123
    assert ms_from_utc(datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == (
        1_767_225_600_000
    )
    with pytest.raises(ValueError, match="naive"):
        ms_from_utc(datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.1, "expected a decimal string, got float"),
        (True, "expected a decimal string, got bool"),
        (None, "expected a decimal string, got NoneType"),
        ("abc", "not a decimal number"),
        ("NaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-1", "negative value"),
    ],
)
def test_decimals_must_be_exact_strings(value: object, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        to_decimal(value, "x")


def test_decimal_values() -> None:
    assert to_decimal("0.10000000", "x") == Decimal("0.1")
    assert str(to_decimal(" 0.10000000 ", "x")) == "0.10000000"
    assert to_decimal(3, "x") == Decimal(3)
    assert to_decimal("-2.5", "x", signed=True) == Decimal("-2.5")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "non-empty string"),
        (5, "non-empty string"),
        ("a" * 257, "longer than 256"),
        ("BTC\x1b[31m", "control characters"),
        ("BTC\x9b", "control characters"),
    ],
)
def test_text_is_safe_to_show(value: object, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        to_text(value, "x")


def test_text_may_be_non_ascii() -> None:
    assert to_text("币安人生USDT", "x") == "币安人生USDT"


def test_intent_checks_itself() -> None:
    good = OrderIntent("sd-a-1", "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal(1), T, Decimal(2))
    assert good.price == Decimal(2)
    with pytest.raises(ValueError, match="client order id"):
        OrderIntent("bad id", "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal(1), T)
    naive = datetime(2026, 1, 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        OrderIntent("sd-a-1", "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal(1), naive)
    with pytest.raises(ValueError, match="not both or neither"):
        OrderIntent("sd-a-1", "BTCUSDT", Side.BUY, OrderType.MARKET, None, T)
    with pytest.raises(ValueError, match="not both or neither"):
        OrderIntent(
            "sd-a-1", "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal(1), T, quote_qty=Decimal(5)
        )


def _order(**fields: object) -> Order:
    base: dict[str, object] = {
        "client_order_id": "sd-a-1",
        "symbol": "BTCUSDT",
        "origin": Origin.DESK,
        "state": OrderState.NEW,
        "last_known_state": OrderState.NEW,
    }
    base.update(fields)
    return Order(**base)  # type: ignore[arg-type]


def test_order_record_views() -> None:
    order = _order(
        qty=Decimal(2),
        cum_qty=Decimal("0.5"),
        filled_qty=Decimal("0.25"),
        filled_quote=Decimal("25.5"),
    )
    assert (order.rank, order.is_open, order.is_terminal) == (1, True, False)
    assert (order.missing_fill_qty, order.remaining_qty) == (Decimal("0.25"), Decimal("1.5"))
    assert order.average_fill_price == Decimal("102")
    assert _order().remaining_qty is None and _order().average_fill_price is None
    done = _order(state=OrderState.CANCELED, last_known_state=OrderState.CANCELED, qty=Decimal(2))
    assert (done.remaining_qty, done.is_terminal) == (Decimal(0), True)
    unknown = _order(state=OrderState.UNKNOWN, last_known_state=OrderState.PENDING_NEW)
    assert unknown.rank == 0


def test_position_record_views() -> None:
    position = Position("BTCUSDT", "BTC", "USDT", qty=Decimal(2), cost_basis=Decimal(201))
    assert position.avg_entry_price == Decimal("100.5")
    assert position.unrealized_pnl(Decimal(110)) == Decimal(19)
    assert position.entry_known and not position.is_flat
    unknown = Position("BTCUSDT", "BTC", "USDT", qty=Decimal(2), cost_basis=None)
    assert unknown.avg_entry_price is None and unknown.unrealized_pnl(Decimal(1)) is None
    assert Position("BTCUSDT", "BTC", "USDT").avg_entry_price is None


def test_reports_views() -> None:
    balance = BalanceReport("BTC", Decimal("1.5"), Decimal("0.5"), T)
    assert balance.total == Decimal(2)


def _fill() -> FillReport:
    return FillReport(
        "BTCUSDT",
        7,
        1,
        Side.BUY,
        Decimal("0.5"),
        Decimal("100.10"),
        Decimal("50.05"),
        Decimal("0.0005"),
        "BTC",
        T,
        "sd-a-1",
        True,
    )


def test_events_become_json() -> None:
    order = _order(cum_qty=Decimal("0.5"), updated_at=T)
    event = OrderFilled(order, _fill())
    body = event_to_json(event)
    assert body["event"] == "OrderFilled" and body["alarm"] is False
    assert body["order"]["state"] == "NEW" and body["order"]["cum_qty"] == "0.5"
    assert body["order"]["updated_at"] == "2026-01-01T00:00:00+00:00"
    assert body["fill"]["price"] == "100.10" and body["fill"]["is_maker"] is True
    assert event.name == "OrderFilled"
    unmatched = event_to_json(ReportUnmatched("why", None, (_fill(),)))
    assert unmatched["alarm"] is True and unmatched["fills"][0]["trade_id"] == 7
    assert OrderAdopted(order).is_alarm
    oversold = PositionOversold(Position("BTCUSDT", "BTC", "USDT"), Decimal(1), _fill())
    assert event_to_json(oversold)["excess_qty"] == "1"


def test_to_jsonable_refuses_floats_and_sorts_sets() -> None:
    assert to_jsonable({"a": {3, 1, 2}, "b": (Decimal("1.0"),)}) == {"a": [1, 2, 3], "b": ["1.0"]}
    with pytest.raises(TypeError, match="float"):
        to_jsonable(0.1)


def test_enums_become_plain_strings() -> None:
    value = to_jsonable(OrderState.NEW)
    assert value == "NEW" and type(value) is str


def test_to_jsonable_writes_decimals_fixed_point() -> None:
    values = (Decimal("0E-8"), Decimal("1E+2"), Decimal("-1.50"), Decimal("0.00000001"))
    assert to_jsonable(values) == ["0.00000000", "100", "-1.50", "0.00000001"]
