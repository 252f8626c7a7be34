"""A protection and its record: what the journal keeps and the snapshot shows, as plain data.

Numbers travel as fixed-point strings and times as ISO-8601, so a record survives a restart
unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.order import Order
from engine.core.types import OrderState


class ProtectionStatus:
    """Where one protection stands (plain strings: they travel in snapshots and the journal)."""

    ACTIVE = "ACTIVE"  # its orders rest on the exchange
    PARTIAL = "PARTIAL"  # a leg has partly filled and still works
    DONE = "DONE"  # a leg filled: the position was sold
    ENDED = "ENDED"  # its orders ended unfilled or part-filled (canceled or expired elsewhere)
    CLEARED = "CLEARED"  # the operator cleared it
    FAILED = "FAILED"  # it could not be placed; `message` says why


@dataclass
class Protection:
    """One symbol's protection and the exchange orders that carry it."""

    symbol: str
    quantity: Decimal
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_delta_bips: int | None = None
    trailing_percent: Decimal | None = None
    high: Decimal | None = None
    last_move_at: datetime | None = None
    status: str = ProtectionStatus.ACTIVE
    order_ids: tuple[str, ...] = ()
    list_client_order_id: str | None = None
    moves: int = 0
    message: str = ""

    @property
    def working(self) -> bool:
        return self.status in (ProtectionStatus.ACTIVE, ProtectionStatus.PARTIAL)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "quantity": _text(self.quantity),
            "stop_loss": _text(self.stop_loss),
            "take_profit": _text(self.take_profit),
            "trailing_delta_bips": self.trailing_delta_bips,
            "trailing_percent": _text(self.trailing_percent),
            "high": _text(self.high),
            "last_move_at": None if self.last_move_at is None else self.last_move_at.isoformat(),
            "status": self.status,
            "order_ids": list(self.order_ids),
            "list_client_order_id": self.list_client_order_id,
            "moves": self.moves,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Protection:
        moved = raw.get("last_move_at")
        return cls(
            symbol=str(raw["symbol"]),
            quantity=Decimal(raw["quantity"]),
            stop_loss=_dec(raw.get("stop_loss")),
            take_profit=_dec(raw.get("take_profit")),
            trailing_delta_bips=raw.get("trailing_delta_bips"),
            trailing_percent=_dec(raw.get("trailing_percent")),
            high=_dec(raw.get("high")),
            last_move_at=None if moved is None else datetime.fromisoformat(moved),
            status=str(raw["status"]),
            order_ids=tuple(raw.get("order_ids") or ()),
            list_client_order_id=raw.get("list_client_order_id"),
            moves=int(raw.get("moves") or 0),
            message=str(raw.get("message") or ""),
        )


@dataclass
class EntryWatch:
    """An entry order whose fill arms protection: its SL/TP and the quantity armed so far."""

    symbol: str
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_delta_bips: int | None = None
    armed_qty: Decimal = Decimal(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "stop_loss": _text(self.stop_loss),
            "take_profit": _text(self.take_profit),
            "trailing_delta_bips": self.trailing_delta_bips,
            "armed_qty": _text(self.armed_qty),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> EntryWatch:
        return cls(
            str(raw["symbol"]),
            _dec(raw.get("stop_loss")),
            _dec(raw.get("take_profit")),
            raw.get("trailing_delta_bips"),
            Decimal(raw.get("armed_qty") or 0),
        )


def status_of(orders: list[Order | None]) -> str | None:
    """A protection's status from its legs; None while any leg is unknown to the engine. DONE
    only when a leg filled completely: a partly filled leg that ended leaves the rest of the
    position unprotected, which is ENDED."""
    if not orders or any(o is None for o in orders):
        return None
    known = [o for o in orders if o is not None]
    if any(o.state is OrderState.FILLED for o in known):
        return ProtectionStatus.DONE
    if all(o.is_terminal for o in known):
        return ProtectionStatus.ENDED
    if any(o.filled_qty > 0 for o in known):
        return ProtectionStatus.PARTIAL
    return ProtectionStatus.ACTIVE


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
