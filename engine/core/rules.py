"""A symbol's trading rules from exchangeInfo: quantize toward safety and explain every refusal.

Quantities are floored to the step (never buy or sell more than asked). A limit price snaps to
the tick on the side that never trades worse than asked: a buy rounds down, a sell up. A stop
price snaps toward the market, so the trigger fires no later than asked. `check` lists what
Binance would reject as -1013 (and the few other pre-trade refusals that depend only on the
symbol), naming the filter and the numbers, so the engine refuses before sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.core.filters import (
    LotSize,
    NotionalFilter,
    PercentPrice,
    PriceFilter,
    Violation,
    ceil_to_step,
    floor_to_step,
)
from engine.core.types import OrderType, Side
from engine.core.wire import MalformedPayload, int_field, require_mapping, text_field

__all__ = [
    "LotSize",
    "NotionalFilter",
    "PercentPrice",
    "PriceFilter",
    "QuantizedOrder",
    "SymbolRules",
    "Violation",
    "ceil_to_step",
    "floor_to_step",
]


@dataclass(frozen=True, slots=True)
class QuantizedOrder:
    """An order's numbers after rounding toward safety; `adjusted` names what changed."""

    qty: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    adjusted: tuple[str, ...]


def _triggers_below_market(side: Side, order_type: OrderType) -> bool:
    """STOP_LOSS SELL and TAKE_PROFIT BUY trigger below the market; the other pairs above."""
    stop_loss = order_type in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    return stop_loss == (side is Side.SELL)


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """What exchangeInfo says about one symbol, as far as placing orders goes."""

    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    order_types: frozenset[OrderType]
    quote_order_qty_market_allowed: bool = True
    price_filter: PriceFilter | None = None
    lot_size: LotSize | None = None
    market_lot_size: LotSize | None = None
    notional_filters: tuple[NotionalFilter, ...] = ()
    percent_price_filters: tuple[PercentPrice, ...] = ()
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_exchange_info(cls, symbol_dict: Mapping[str, Any]) -> SymbolRules:
        """Rules from one entry of exchangeInfo's `symbols`; unknown filters are ignored."""
        raw = require_mapping(symbol_dict, "exchangeInfo symbol")
        symbol = text_field(raw, "symbol", "exchangeInfo symbol")
        what = f"exchangeInfo {symbol}"
        order_types: set[OrderType] = set()
        for name in raw.get("orderTypes", []):
            try:
                order_types.add(OrderType(name))
            except ValueError:
                continue  # a type this desk does not place
        filters = raw.get("filters", [])
        if not isinstance(filters, Sequence):
            raise MalformedPayload(f"{what}.filters: expected a list")
        fields: dict[str, Any] = {}
        notional: list[NotionalFilter] = []
        percent: list[PercentPrice] = []
        for entry in filters:
            item = require_mapping(entry, f"{what} filter")
            kind = item.get("filterType")
            where = f"{what} {kind}"
            if kind == "PRICE_FILTER":
                fields["price_filter"] = PriceFilter.from_json(item, where)
            elif kind == "LOT_SIZE":
                fields["lot_size"] = LotSize.from_json(item, where)
            elif kind == "MARKET_LOT_SIZE":
                fields["market_lot_size"] = LotSize.from_json(item, where)
            elif kind in ("NOTIONAL", "MIN_NOTIONAL"):
                notional.append(NotionalFilter.from_json(item, where))
            elif kind in ("PERCENT_PRICE_BY_SIDE", "PERCENT_PRICE"):
                percent.append(PercentPrice.from_json(item, where))
            elif kind == "MAX_NUM_ORDERS":
                fields["max_num_orders"] = int_field(item, "maxNumOrders", where)
            elif kind == "MAX_NUM_ALGO_ORDERS":
                fields["max_num_algo_orders"] = int_field(item, "maxNumAlgoOrders", where)
        quote_market = raw.get("quoteOrderQtyMarketAllowed", True)
        return cls(
            symbol=symbol,
            status=text_field(raw, "status", what),
            base_asset=text_field(raw, "baseAsset", what),
            quote_asset=text_field(raw, "quoteAsset", what),
            order_types=frozenset(order_types),
            quote_order_qty_market_allowed=quote_market is True,
            notional_filters=tuple(notional),
            percent_price_filters=tuple(percent),
            **fields,
        )

    # -- quantization -------------------------------------------------------------------------

    def qty_step(self, *, market: bool = False) -> Decimal:
        """The step a quantity must be a multiple of (MARKET_LOT_SIZE's when it sets one)."""
        if market and self.market_lot_size is not None and self.market_lot_size.step_size > 0:
            return self.market_lot_size.step_size
        return self.lot_size.step_size if self.lot_size is not None else Decimal(0)

    def floor_qty(self, qty: Decimal, *, market: bool = False) -> Decimal:
        """`qty` floored to the step: never more than asked."""
        floored = floor_to_step(qty, self.qty_step(market=False))
        if market:
            floored = floor_to_step(floored, self.qty_step(market=True))
        return floored

    @property
    def tick_size(self) -> Decimal:
        return self.price_filter.tick_size if self.price_filter is not None else Decimal(0)

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """A limit price on the tick, never worse for us: a buy rounds down, a sell up."""
        if side is Side.BUY:
            return floor_to_step(price, self.tick_size)
        return ceil_to_step(price, self.tick_size)

    def round_stop_price(self, stop_price: Decimal, side: Side, order_type: OrderType) -> Decimal:
        """A stop price on the tick, moved toward the market so it triggers no later."""
        if _triggers_below_market(side, order_type):
            return ceil_to_step(stop_price, self.tick_size)
        return floor_to_step(stop_price, self.tick_size)

    def quantize(
        self,
        side: Side,
        order_type: OrderType,
        qty: Decimal | None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> QuantizedOrder:
        """All of an order's numbers rounded toward safety, to show the operator before sending."""
        adjusted: list[str] = []
        new_qty = new_price = new_stop = None
        if qty is not None:
            new_qty = self.floor_qty(qty, market=order_type.executes_at_market)
            if new_qty != qty:
                adjusted.append("quantity")
        if price is not None:
            new_price = self.round_price(price, side)
            if new_price != price:
                adjusted.append("price")
        if stop_price is not None:
            new_stop = self.round_stop_price(stop_price, side, order_type)
            if new_stop != stop_price:
                adjusted.append("stopPrice")
        return QuantizedOrder(new_qty, new_price, new_stop, tuple(adjusted))

    # -- checks -------------------------------------------------------------------------------

    def check(
        self,
        side: Side,
        order_type: OrderType,
        qty: Decimal | None,
        price: Decimal | None,
        ref_price: Decimal | None,
        *,
        stop_price: Decimal | None = None,
        quote_qty: Decimal | None = None,
        open_orders: int | None = None,
        open_algo_orders: int | None = None,
    ) -> list[Violation]:
        """Every reason the venue would refuse this order; empty when it would pass.

        `ref_price` is the average (or reference) price Binance checks MARKET notionals and the
        percent-price band against; checks that need it are skipped when it is None.
        """
        found: list[Violation] = []
        if self.status != "TRADING":
            found.append(
                Violation("STATUS", "status", f"{self.symbol} is {self.status}, not TRADING")
            )
        if order_type not in self.order_types:
            found.append(
                Violation("ORDER_TYPES", "type", f"{self.symbol} does not allow {order_type}")
            )
        found.extend(self._check_mandatory(order_type, qty, price, stop_price, quote_qty))
        if price is not None and order_type.has_limit_price:
            if self.price_filter is not None:
                found.extend(self.price_filter.violations(price, "price"))
            if ref_price is not None:
                for band in self.percent_price_filters:
                    found.extend(band.violations(side, price, ref_price))
        if stop_price is not None and order_type.has_stop_price and self.price_filter is not None:
            found.extend(self.price_filter.violations(stop_price, "stopPrice"))
        if qty is not None:
            lots = (self.lot_size, self.market_lot_size if order_type.executes_at_market else None)
            for lot in lots:
                if lot is not None:
                    found.extend(lot.violations(qty))
        notional = _notional(order_type, qty, price, ref_price, quote_qty)
        if notional is not None:
            for rule in self.notional_filters:
                found.extend(rule.violations(notional, market=order_type.executes_at_market))
        found.extend(self._check_counts(order_type, open_orders, open_algo_orders))
        return found

    def _check_mandatory(
        self,
        order_type: OrderType,
        qty: Decimal | None,
        price: Decimal | None,
        stop_price: Decimal | None,
        quote_qty: Decimal | None,
    ) -> list[Violation]:
        found: list[Violation] = []
        if quote_qty is not None:
            if order_type is not OrderType.MARKET:
                found.append(
                    Violation("PARAMETERS", "quoteOrderQty", "only MARKET orders take a quote qty")
                )
            elif not self.quote_order_qty_market_allowed:
                found.append(
                    Violation(
                        "PARAMETERS",
                        "quoteOrderQty",
                        f"{self.symbol} does not allow MARKET orders by quote quantity",
                    )
                )
            if qty is not None:
                found.append(
                    Violation("PARAMETERS", "quantity", "give a quantity or a quote qty, not both")
                )
        elif qty is None:
            found.append(Violation("PARAMETERS", "quantity", "a quantity is required"))
        if order_type.has_limit_price and price is None:
            found.append(Violation("PARAMETERS", "price", f"{order_type} needs a price"))
        if order_type.has_stop_price and stop_price is None:
            found.append(Violation("PARAMETERS", "stopPrice", f"{order_type} needs a stop price"))
        for name, value in (("quantity", qty), ("price", price), ("stopPrice", stop_price)):
            if value is not None and value <= 0:
                found.append(
                    Violation("PARAMETERS", name, f"{name} {value} must be positive", value)
                )
        if quote_qty is not None and quote_qty <= 0:
            found.append(
                Violation("PARAMETERS", "quoteOrderQty", f"quote qty {quote_qty} must be positive")
            )
        return found

    def _check_counts(
        self, order_type: OrderType, open_orders: int | None, open_algo_orders: int | None
    ) -> list[Violation]:
        found: list[Violation] = []
        if (
            self.max_num_orders is not None
            and open_orders is not None
            and open_orders + 1 > self.max_num_orders
        ):
            found.append(
                Violation(
                    "MAX_NUM_ORDERS",
                    "openOrders",
                    f"{open_orders} open orders on {self.symbol}; the limit is "
                    f"{self.max_num_orders}",
                    Decimal(open_orders),
                    Decimal(self.max_num_orders),
                )
            )
        if (
            order_type.has_stop_price
            and self.max_num_algo_orders is not None
            and open_algo_orders is not None
            and open_algo_orders + 1 > self.max_num_algo_orders
        ):
            found.append(
                Violation(
                    "MAX_NUM_ALGO_ORDERS",
                    "openOrders",
                    f"{open_algo_orders} open stop/take-profit orders on {self.symbol}; the "
                    f"limit is {self.max_num_algo_orders}",
                    Decimal(open_algo_orders),
                    Decimal(self.max_num_algo_orders),
                )
            )
        return found


def _notional(
    order_type: OrderType,
    qty: Decimal | None,
    price: Decimal | None,
    ref_price: Decimal | None,
    quote_qty: Decimal | None,
) -> Decimal | None:
    """What the order is worth in the quote asset: MARKET orders at the reference price."""
    if quote_qty is not None:
        return quote_qty
    unit = ref_price if order_type.executes_at_market else price
    return None if qty is None or unit is None else qty * unit
