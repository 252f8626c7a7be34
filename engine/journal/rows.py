"""What the journal hands back when read: one frozen row type per table, plus the load snapshot.

Payloads come back as the engine stored them (decimals as strings); turning them into domain
objects is the engine's business, so the journal stays independent of the domain types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class IntentRow:
    """An order the engine decided to send, recorded before any byte went out (R1)."""

    client_order_id: str
    created_at: datetime
    symbol: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class OrderRow:
    """The latest snapshot of one of our orders."""

    client_order_id: str
    symbol: str
    state: str
    terminal: bool
    updated_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class FillRow:
    """One trade of ours, unique by (symbol, trade_id)."""

    symbol: str
    trade_id: int
    client_order_id: str
    ts: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class BalanceRow:
    """The last known balance of one asset."""

    asset: str
    free: Decimal
    locked: Decimal
    updated_at: datetime


@dataclass(frozen=True)
class EventRow:
    """One event of the engine's ordered stream; `seq` follows commit order, from 1."""

    seq: int
    ts: datetime
    type: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class OperatorActionRow:
    """One audited operator action: who, from which terminal, what, and how it ended."""

    id: int
    ts: datetime
    os_user: str
    terminal: str
    action: str
    params: Mapping[str, Any]
    confirmed: bool
    result: str


@dataclass(frozen=True)
class JournalSnapshot:
    """Everything the engine needs to rebuild its state after a restart, read consistently."""

    mode: str
    account: str
    created_at: datetime
    instance: int
    open_orders: tuple[OrderRow, ...]
    recent_terminal_orders: tuple[OrderRow, ...]
    unsettled_intents: tuple[IntentRow, ...]
    fills: tuple[FillRow, ...]
    balances: Mapping[str, BalanceRow]
    counters: Mapping[str, int]
    state: Mapping[str, Any]
    last_event_seq: int


@dataclass(frozen=True)
class JournalStats:
    """Counts of the writer's work since open; tests use them to prove that commits are grouped."""

    transactions: int
    rows: int
    largest_batch: int
