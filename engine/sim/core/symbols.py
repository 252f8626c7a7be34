"""Symbols with Binance's real filters, and the exchangeInfo payload built from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from engine.sim.core.params import fmt

ORDER_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
SYMBOL_STATUSES = (
    "PRE_TRADING",
    "TRADING",
    "POST_TRADING",
    "END_OF_DAY",
    "HALT",
    "AUCTION_MATCH",
    "BREAK",
)
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")


@dataclass(frozen=True)
class SymbolSpec:
    """One symbol's trading rules, values as on live Binance Spot (late 2025, rounded)."""

    symbol: str
    base_asset: str
    quote_asset: str
    start_price: Decimal
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal = Decimal(5)
    max_notional: Decimal = Decimal(9_000_000)
    bid_multiplier_up: Decimal = Decimal(5)
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal(5)
    ask_multiplier_down: Decimal = Decimal("0.2")
    avg_price_mins: int = 5
    min_trailing_delta: int = 10
    max_trailing_delta: int = 2000
    iceberg_parts: int = 10
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    max_num_order_lists: int = 20
    default_stp_mode: str = "EXPIRE_MAKER"

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SymbolSpec:
        decimals = {
            name
            for name, field in cls.__dataclass_fields__.items()
            if field.type in ("Decimal", Decimal)
        }
        values: dict[str, Any] = {k: Decimal(v) if k in decimals else v for k, v in data.items()}
        return cls(**values)

    def filters(self) -> list[dict[str, Any]]:
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(self.min_price),
                "maxPrice": fmt(self.max_price),
                "tickSize": fmt(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(self.min_qty),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": self.iceberg_parts},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(self.market_max_qty),
                "stepSize": fmt(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": self.min_trailing_delta,
                "maxTrailingAboveDelta": self.max_trailing_delta,
                "minTrailingBelowDelta": self.min_trailing_delta,
                "maxTrailingBelowDelta": self.max_trailing_delta,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": self.avg_price_mins,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": self.avg_price_mins,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": self.max_num_order_lists},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
        ]

    def info(self) -> dict[str, Any]:
        """This symbol's entry in exchangeInfo's "symbols"."""
        return {
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": self.base_asset,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote_asset,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": False,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self.filters(),
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": self.default_stp_mode,
            "allowedSelfTradePreventionModes": list(STP_MODES),
        }


def default_symbols() -> list[SymbolSpec]:
    """BTCUSDT, ETHUSDT, BNBUSDT and SOLUSDT with realistic starting prices."""
    return [
        SymbolSpec(
            symbol="BTCUSDT",
            base_asset="BTC",
            quote_asset="USDT",
            start_price=Decimal("95000.00"),
            tick_size=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal(1_000_000),
            step_size=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
            max_qty=Decimal(9000),
            market_max_qty=Decimal(100),
        ),
        SymbolSpec(
            symbol="ETHUSDT",
            base_asset="ETH",
            quote_asset="USDT",
            start_price=Decimal("3500.00"),
            tick_size=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal(1_000_000),
            step_size=Decimal("0.0001"),
            min_qty=Decimal("0.0001"),
            max_qty=Decimal(9000),
            market_max_qty=Decimal(2500),
        ),
        SymbolSpec(
            symbol="BNBUSDT",
            base_asset="BNB",
            quote_asset="USDT",
            start_price=Decimal("650.00"),
            tick_size=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal(100_000),
            step_size=Decimal("0.001"),
            min_qty=Decimal("0.001"),
            max_qty=Decimal(900_000),
            market_max_qty=Decimal(5000),
        ),
        SymbolSpec(
            symbol="SOLUSDT",
            base_asset="SOL",
            quote_asset="USDT",
            start_price=Decimal("180.00"),
            tick_size=Decimal("0.01"),
            min_price=Decimal("0.01"),
            max_price=Decimal(10_000),
            step_size=Decimal("0.001"),
            min_qty=Decimal("0.001"),
            max_qty=Decimal(9_000_000),
            market_max_qty=Decimal(20_000),
        ),
    ]
