"""The venue's truth as immutable values: order status, fills and balances, all in Decimal.

Reports are what reconciliation folds into local state. They keep the wire's meaning: on a
cancel, `client_order_id` is the cancel request's id and `orig_client_order_id` the order's own.
Fields a given payload does not carry (an ACK response has no side or quantity) are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.core.types import OrderState, OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """One order's state at the venue at `transact_time`."""

    symbol: str
    client_order_id: str
    order_id: int
    state: OrderState
    cum_qty: Decimal  # executedQty / z: never less than the truth at transact_time
    cum_quote: Decimal  # cummulativeQuoteQty / Z
    transact_time: datetime
    orig_client_order_id: str | None = None  # set on cancels and amends: the order's own id
    order_list_id: int | None = None  # None when not part of an order list (-1 on the wire)
    side: Side | None = None
    type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    qty: Decimal | None = None  # origQty / q
    price: Decimal | None = None  # None when absent or zero (MARKET orders)
    stop_price: Decimal | None = None  # None when absent or zero
    quote_qty: Decimal | None = None  # origQuoteOrderQty / Q; None when absent or zero
    trailing_delta: int | None = None
    execution_type: str | None = None  # executionReport `x`; None for REST payloads
    reject_reason: str | None = None  # executionReport `r` when not NONE
    expiry_reason: str | None = None  # `eR` / `expiryReason`, or EXPIRED_IN_MATCH for STP

    @property
    def order_client_id(self) -> str:
        """The client order id of the order itself (not of a cancel request)."""
        return self.orig_client_order_id or self.client_order_id


@dataclass(frozen=True, slots=True)
class FillReport:
    """One trade of one order. `(symbol, trade_id)` identifies it forever (R7)."""

    symbol: str
    trade_id: int
    order_id: int
    side: Side
    qty: Decimal
    price: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str | None  # None when nothing was charged (Binance sends N=null)
    time: datetime
    client_order_id: str | None = None  # None for myTrades rows, which do not carry it
    is_maker: bool | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.symbol, self.trade_id)


@dataclass(frozen=True, slots=True)
class BalanceReport:
    """Absolute free and locked amounts of one asset at `time`."""

    asset: str
    free: Decimal
    locked: Decimal
    time: datetime

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class BalanceDeltaReport:
    """A deposit, withdrawal or transfer (`balanceUpdate`): informational, not a balance.

    The absolute balances that follow it arrive as an `outboundAccountPosition`, so the ledger
    never adds deltas to balances (it would count them twice).
    """

    asset: str
    delta: Decimal
    time: datetime
