"""Builders for the order book's tests: intents, status reports, fills and a tiny venue model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.core.intents import OrderIntent
from engine.core.reports import FillReport, OrderStatusReport
from engine.core.types import OrderState, OrderType, Side, TimeInForce

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SYMBOL = "BTCUSDT"


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def is_ours(client_order_id: str) -> bool:
    return client_order_id.startswith("sd-")


def intent(
    cid: str = "sd-t1-1",
    qty: str | None = "1",
    price: str | None = "100",
    *,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.LIMIT,
    symbol: str = SYMBOL,
    quote_qty: str | None = None,
) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        type=order_type,
        qty=None if qty is None else Decimal(qty),
        created_at=T0,
        price=None if price is None else Decimal(price),
        quote_qty=None if quote_qty is None else Decimal(quote_qty),
        time_in_force=TimeInForce.GTC if order_type is OrderType.LIMIT else None,
    )


def status(
    cid: str,
    state: OrderState,
    cum: str = "0",
    cum_quote: str | None = None,
    *,
    order_id: int = 1,
    t: int = 0,
    orig: str | None = None,
    symbol: str = SYMBOL,
    qty: str = "1",
    price: str | None = "100",
    side: Side = Side.BUY,
    reject_reason: str | None = None,
    expiry_reason: str | None = None,
) -> OrderStatusReport:
    quote = cum_quote if cum_quote is not None else str(Decimal(cum) * Decimal(price or "100"))
    return OrderStatusReport(
        symbol=symbol,
        client_order_id=cid,
        orig_client_order_id=orig,
        order_id=order_id,
        state=state,
        cum_qty=Decimal(cum),
        cum_quote=Decimal(quote),
        transact_time=at(t),
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        reject_reason=reject_reason,
        expiry_reason=expiry_reason,
    )


def fill(
    trade_id: int,
    qty: str,
    price: str = "100",
    *,
    cid: str | None = "sd-t1-1",
    order_id: int = 1,
    t: int = 0,
    symbol: str = SYMBOL,
    side: Side = Side.BUY,
    commission: str = "0",
    commission_asset: str | None = None,
) -> FillReport:
    return FillReport(
        symbol=symbol,
        trade_id=trade_id,
        order_id=order_id,
        client_order_id=cid,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        quote_qty=Decimal(qty) * Decimal(price),
        commission=Decimal(commission),
        commission_asset=commission_asset,
        time=at(t),
        is_maker=False,
    )


Message = tuple[OrderStatusReport | None, tuple[FillReport, ...]]


@dataclass
class VenueOrder:
    """What the exchange knows of one order, and the messages it would send about it."""

    cid: str
    order_id: int
    qty: Decimal
    price: Decimal = Decimal(100)
    state: OrderState = OrderState.PENDING_NEW  # PENDING_NEW: the venue has not seen it yet
    cum: Decimal = Decimal(0)
    fills: list[FillReport] = field(default_factory=list)
    clock: int = 0

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def report(
        self, *, cid: str | None = None, orig: str | None = None, t: int | None = None
    ) -> OrderStatusReport:
        return OrderStatusReport(
            symbol=SYMBOL,
            client_order_id=cid or self.cid,
            orig_client_order_id=orig,
            order_id=self.order_id,
            state=self.state,
            cum_qty=self.cum,
            cum_quote=self.cum * self.price,
            transact_time=at(self.clock if t is None else t),
            side=Side.BUY,
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            qty=self.qty,
            price=self.price,
            reject_reason="INSUFFICIENT_BALANCES" if self.state is OrderState.REJECTED else None,
        )

    @property
    def is_open(self) -> bool:
        return self.state in (OrderState.NEW, OrderState.PARTIALLY_FILLED)

    def accept(self) -> Message:
        self.state = OrderState.NEW
        self._tick()
        return (self.report(), ())

    def reject(self) -> Message:
        self.state = OrderState.REJECTED
        self._tick()
        return (self.report(), ())

    def trade(self, qty: Decimal, trade_id: int) -> Message:
        qty = min(qty, self.qty - self.cum)
        self.cum += qty
        self.state = OrderState.FILLED if self.cum == self.qty else OrderState.PARTIALLY_FILLED
        t = self._tick()
        new_fill = FillReport(
            symbol=SYMBOL,
            trade_id=trade_id,
            order_id=self.order_id,
            client_order_id=self.cid,
            side=Side.BUY,
            qty=qty,
            price=self.price,
            quote_qty=qty * self.price,
            commission=Decimal(0),
            commission_asset=None,
            time=at(t),
            is_maker=True,
        )
        self.fills.append(new_fill)
        return (self.report(), (new_fill,))

    def cancel(self, cancel_cid: str) -> Message:
        self.state = OrderState.CANCELED
        self._tick()
        return (self.report(cid=cancel_cid, orig=self.cid), ())

    def expire(self) -> Message:
        self.state = OrderState.EXPIRED
        self._tick()
        return (self.report(), ())

    def my_trades(self) -> list[FillReport]:
        """The fills as GET /myTrades returns them: no client order id."""
        return [
            FillReport(
                symbol=f.symbol,
                trade_id=f.trade_id,
                order_id=f.order_id,
                side=f.side,
                qty=f.qty,
                price=f.price,
                quote_qty=f.quote_qty,
                commission=f.commission,
                commission_asset=f.commission_asset,
                time=f.time,
                is_maker=f.is_maker,
            )
            for f in self.fills
        ]
