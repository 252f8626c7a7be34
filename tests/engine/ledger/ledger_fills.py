"""Builders for the ledger's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.core.reports import BalanceReport, FillReport
from engine.core.rules import SymbolRules
from engine.core.types import Side

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def trade(
    side: Side,
    qty: str | Decimal,
    price: str | Decimal,
    commission: str | Decimal = "0",
    asset: str | None = None,
    *,
    symbol: str = "BTCUSDT",
    trade_id: int = 1,
    t: int = 0,
) -> FillReport:
    qty, price = Decimal(qty), Decimal(price)
    return FillReport(
        symbol=symbol,
        trade_id=trade_id,
        order_id=1,
        side=side,
        qty=qty,
        price=price,
        quote_qty=qty * price,
        commission=Decimal(commission),
        commission_asset=asset,
        time=at(t),
    )


def rules(symbol: str, base: str, quote: str, **filters: Any) -> SymbolRules:
    entries = [
        {
            "filterType": "LOT_SIZE",
            "minQty": filters.get("min_qty", "0.00001"),
            "maxQty": "9000",
            "stepSize": filters.get("step", "0.00001"),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": filters.get("min_notional", "5"),
            "applyMinToMarket": True,
            "maxNotional": "9000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
    ]
    if "market_min_qty" in filters:
        entries.append(
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": filters["market_min_qty"],
                "maxQty": "100",
                "stepSize": "0",
            }
        )
    return SymbolRules.from_exchange_info(
        {
            "symbol": symbol,
            "status": "TRADING",
            "baseAsset": base,
            "quoteAsset": quote,
            "orderTypes": ["LIMIT", "MARKET"],
            "filters": entries,
        }
    )


RULES = {
    "BTCUSDT": rules("BTCUSDT", "BTC", "USDT"),
    "BNBUSDT": rules("BNBUSDT", "BNB", "USDT"),
    "BNBBTC": rules("BNBBTC", "BNB", "BTC"),
    "ETHUSDT": rules(
        "ETHUSDT", "ETH", "USDT", min_qty="0.001", step="0.001", market_min_qty="0.01"
    ),
}


def balance(asset: str, free: str, locked: str = "0", t: int = 0) -> BalanceReport:
    return BalanceReport(asset, Decimal(free), Decimal(locked), at(t))
