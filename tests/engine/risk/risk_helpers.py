"""Builders for the risk tests: symbols with Binance-like filters and a demo account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.core.filters import LotSize, NotionalFilter, PriceFilter
from engine.core.order import Order
from engine.core.position import Position
from engine.core.reports import BalanceReport
from engine.core.rules import SymbolRules
from engine.core.types import OrderState, OrderType, Origin, Side
from engine.risk import DayTotals, ProposedOrder, RiskContext, RiskLimits

D = Decimal
T0 = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
DAY = date(2026, 1, 2)
LIMITS = RiskLimits()


def symbol_rules(
    symbol: str,
    base: str,
    quote: str = "USDT",
    *,
    step: str = "0.00001",
    tick: str = "0.01",
    min_qty: str | None = None,
    max_qty: str = "9000",
    market_max_qty: str = "100",
    min_notional: str = "5",
    max_notional: str = "9000000",
) -> SymbolRules:
    return SymbolRules(
        symbol=symbol,
        status="TRADING",
        base_asset=base,
        quote_asset=quote,
        order_types=frozenset(OrderType),
        price_filter=PriceFilter(D(tick), D(1_000_000), D(tick)),
        lot_size=LotSize("LOT_SIZE", D(min_qty or step), D(max_qty), D(step)),
        market_lot_size=LotSize("MARKET_LOT_SIZE", D(0), D(market_max_qty), D(0)),
        notional_filters=(
            NotionalFilter("NOTIONAL", D(min_notional), D(max_notional), True, False, 5),
        ),
    )


RULES = {
    "BTCUSDT": symbol_rules("BTCUSDT", "BTC"),
    "ETHUSDT": symbol_rules("ETHUSDT", "ETH", step="0.0001"),
    "SOLUSDT": symbol_rules("SOLUSDT", "SOL", step="0.001"),
    "BNBUSDT": symbol_rules("BNBUSDT", "BNB", step="0.001"),
    "XRPUSDT": symbol_rules("XRPUSDT", "XRP", step="0.1"),
    "ADAUSDT": symbol_rules("ADAUSDT", "ADA", step="0.1"),
    "ETHBTC": symbol_rules(
        "ETHBTC", "ETH", "BTC", step="0.0001", tick="0.00001", min_notional="0.0001"
    ),
}
MARKS = {
    "BTCUSDT": D(50000),
    "ETHUSDT": D(2000),
    "SOLUSDT": D(100),
    "BNBUSDT": D(500),
    "XRPUSDT": D(2),
    "ADAUSDT": D("0.5"),
    "ETHBTC": D("0.04"),
}


def balance(asset: str, free: str | Decimal, locked: str | Decimal = "0") -> BalanceReport:
    return BalanceReport(asset, D(free), D(locked), T0)


def position(
    symbol: str,
    qty: str | Decimal,
    cost: str | Decimal | None,
    *,
    realized: str | Decimal = "0",
    fees: str | Decimal = "0",
) -> Position:
    rules = RULES[symbol]
    return Position(
        symbol,
        rules.base_asset,
        rules.quote_asset,
        qty=D(qty),
        cost_basis=None if cost is None else D(cost),
        realized_pnl=D(realized),
        fees_paid=D(fees),
    )


def open_order(
    symbol: str,
    side: Side,
    qty: str | None,
    price: str | None = None,
    *,
    order_type: OrderType = OrderType.LIMIT,
    cum_qty: str = "0",
    quote_qty: str | None = None,
    stop_price: str | None = None,
    state: OrderState = OrderState.NEW,
    cid: str = "o1",
) -> Order:
    return Order(
        client_order_id=cid,
        symbol=symbol,
        origin=Origin.DESK,
        state=state,
        last_known_state=state,
        side=side,
        type=order_type,
        qty=None if qty is None else D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop_price is None else D(stop_price),
        quote_qty=None if quote_qty is None else D(quote_qty),
        cum_qty=D(cum_qty),
    )


def context(
    *,
    positions: Sequence[Position] = (),
    balances: list[BalanceReport] | None = None,
    **changes: Any,
) -> RiskContext:
    """A 10,000 USDT account with no positions, unless told otherwise."""
    ctx = RiskContext(
        now=T0,
        equity=D(10000),
        balances={b.asset: b for b in (balances or [balance("USDT", "10000")])},
        positions={p.symbol: p for p in positions},
        marks=dict(MARKS),
        rules=RULES,
        day=DayTotals(DAY),
    )
    return replace(ctx, **changes)


def buy(
    symbol: str = "BTCUSDT",
    qty: str | None = "0.01",
    price: str | None = "50000",
    *,
    order_type: OrderType = OrderType.LIMIT,
    **fields: Any,
) -> ProposedOrder:
    return ProposedOrder(
        symbol,
        Side.BUY,
        order_type,
        qty=None if qty is None else D(qty),
        price=None if price is None else D(price),
        **fields,
    )


def sell(
    symbol: str = "BTCUSDT",
    qty: str | None = "0.01",
    price: str | None = "50000",
    *,
    order_type: OrderType = OrderType.LIMIT,
    **fields: Any,
) -> ProposedOrder:
    return ProposedOrder(
        symbol,
        Side.SELL,
        order_type,
        qty=None if qty is None else D(qty),
        price=None if price is None else D(price),
        **fields,
    )
