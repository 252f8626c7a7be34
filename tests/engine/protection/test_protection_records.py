"""Protection records: the journal's JSON round-trips exactly; a status follows the legs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.core.order import Order
from engine.core.types import OrderState, Origin
from engine.protection import EntryWatch, Protection, ProtectionStatus, status_of


def test_a_protection_round_trips_through_json() -> None:
    protection = Protection(
        symbol="BTCUSDT",
        quantity=Decimal("0.01000"),
        stop_loss=Decimal("92150.00"),
        take_profit=Decimal("100000.00"),
        trailing_percent=Decimal(3),
        high=Decimal("95000.00000000"),
        last_move_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        order_ids=("sd-a-1", "sd-a-2"),
        list_client_order_id="sd-a-3",
        moves=2,
    )
    raw = protection.to_json()
    assert raw["stop_loss"] == "92150.00" and raw["last_move_at"] == "2026-01-05T12:00:00+00:00"
    assert Protection.from_json(raw) == protection
    entry = EntryWatch("BTCUSDT", Decimal(90000), None, 150, Decimal("0.5"))
    assert EntryWatch.from_json(entry.to_json()) == entry


def leg(state: OrderState, filled: str = "0") -> Order:
    return Order("sd-a-1", "BTCUSDT", Origin.DESK, state, state, filled_qty=Decimal(filled))


def test_status_follows_the_legs() -> None:
    new, filled = leg(OrderState.NEW), leg(OrderState.FILLED, "0.01")
    assert status_of([new, new]) == ProtectionStatus.ACTIVE
    assert status_of([filled, leg(OrderState.EXPIRED)]) == ProtectionStatus.DONE
    assert status_of([leg(OrderState.PARTIALLY_FILLED, "0.004")]) == ProtectionStatus.PARTIAL
    assert status_of([leg(OrderState.CANCELED), leg(OrderState.CANCELED)]) == "ENDED"
    assert status_of([leg(OrderState.CANCELED, "0.004")]) == ProtectionStatus.ENDED
    assert status_of([new, None]) is None  # a leg the engine does not know yet: no verdict
