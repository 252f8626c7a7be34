"""Builders of user-data events (executionReport, ...) and market stream payloads."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.sim.core.accounts import Account
from engine.sim.core.market import DAY_MS, SymbolMarket
from engine.sim.core.orders import Order, OrderList
from engine.sim.core.params import ZERO, fmt


@dataclass
class ExecDetail:
    """What one executionReport reports beyond the order's own state."""

    exec_type: str
    execution_id: int
    transact_time: int
    last_qty: Decimal = ZERO
    last_price: Decimal = ZERO
    commission: Decimal | None = None
    commission_asset: str | None = None
    trade_id: int = -1
    is_maker: bool = False
    cancel_client_id: str | None = None
    reject_reason: str = "NONE"
    last_prevented: Decimal | None = None
    counter_order_id: int | None = None
    on_book: bool | None = None  # overrides the order's own state (a NEW order is "working")


def execution_report(order: Order, detail: ExecDetail, event_time: int) -> dict[str, Any]:
    canceled = detail.cancel_client_id is not None
    report: dict[str, Any] = {
        "e": "executionReport",
        "E": event_time,
        "s": order.symbol,
        "c": detail.cancel_client_id if canceled else order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": fmt(order.iceberg_qty or ZERO),
        "g": order.order_list_id,
        "C": order.client_order_id if canceled else "",
        "x": detail.exec_type,
        "X": order.status,
        "r": detail.reject_reason,
        "i": order.order_id,
        "l": fmt(detail.last_qty),
        "z": fmt(order.executed_qty),
        "L": fmt(detail.last_price),
        "n": fmt(detail.commission) if detail.commission is not None else "0",
        "N": detail.commission_asset,
        "T": detail.transact_time,
        "t": detail.trade_id,
        "I": detail.execution_id,
        "w": order.resting if detail.on_book is None else detail.on_book,
        "m": detail.is_maker,
        "M": detail.exec_type == "TRADE",
        "O": order.time,
        "Z": fmt(order.cum_quote),
        "Y": fmt(detail.last_qty * detail.last_price),
        "Q": fmt(order.quote_order_qty),
        "V": order.stp_mode,
    }
    if order.is_working:
        report["W"] = order.working_time
    if order.trailing_delta is not None:
        report["d"] = order.trailing_delta
        report["D"] = order.trailing_time
    if order.strategy_id is not None:
        report["j"] = order.strategy_id
    if order.strategy_type is not None:
        report["J"] = order.strategy_type
    if order.prevented_match_id is not None:
        report["v"] = order.prevented_match_id
        report["A"] = fmt(order.prevented_qty)
        if detail.last_prevented is not None:
            report["B"] = fmt(detail.last_prevented)
        if detail.counter_order_id is not None:
            report["U"] = detail.counter_order_id
    if order.expiry_reason is not None and order.status == "EXPIRED":
        report["eR"] = order.expiry_reason
    return report


def account_position(account: Account, assets: set[str], event_time: int) -> dict[str, Any]:
    return {
        "e": "outboundAccountPosition",
        "E": event_time,
        "u": account.update_time,
        "B": [
            {"a": a, "f": fmt(account.balance(a).free), "l": fmt(account.balance(a).locked)}
            for a in sorted(assets)
        ],
    }


def balance_update(asset: str, delta: Decimal, event_time: int) -> dict[str, Any]:
    return {"e": "balanceUpdate", "E": event_time, "a": asset, "d": fmt(delta), "T": event_time}


def list_status(order_list: OrderList, legs: list[Order], event_time: int) -> dict[str, Any]:
    return {
        "e": "listStatus",
        "E": event_time,
        "s": order_list.symbol,
        "g": order_list.order_list_id,
        "c": order_list.contingency_type,
        "l": order_list.list_status_type,
        "L": order_list.list_order_status,
        "r": "NONE",
        "C": order_list.list_client_order_id,
        "T": event_time,
        "O": [{"s": o.symbol, "i": o.order_id, "c": o.client_order_id} for o in legs],
    }


# -- market streams ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopOfBook:
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal


def book_ticker(market: SymbolMarket, top: TopOfBook) -> dict[str, Any]:
    return {
        "u": market.book_update_id,
        "s": market.spec.symbol,
        "b": fmt(top.bid),
        "B": fmt(top.bid_qty),
        "a": fmt(top.ask),
        "A": fmt(top.ask_qty),
    }


def mini_ticker(market: SymbolMarket, now_ms: int) -> dict[str, Any]:
    stats = market.day_stats(now_ms)
    return {
        "e": "24hrMiniTicker",
        "E": now_ms,
        "s": market.spec.symbol,
        "c": fmt(market.last),
        "o": fmt(stats["open"]),
        "h": fmt(stats["high"]),
        "l": fmt(stats["low"]),
        "v": fmt(stats["volume"]),
        "q": fmt(stats["quote_volume"]),
    }


def ticker(market: SymbolMarket, top: TopOfBook, now_ms: int) -> dict[str, Any]:
    stats = market.day_stats(now_ms)
    open_price: Decimal = stats["open"]
    change = market.last - open_price
    percent = (change / open_price * 100).quantize(Decimal("0.001")) if open_price else ZERO
    volume: Decimal = stats["volume"]
    weighted = stats["quote_volume"] / volume if volume else market.last
    return {
        "e": "24hrTicker",
        "E": now_ms,
        "s": market.spec.symbol,
        "p": fmt(change),
        "P": f"{percent:f}",
        "w": fmt(weighted),
        "x": fmt(open_price),
        "c": fmt(market.last),
        "Q": fmt(market.last_qty),
        "b": fmt(top.bid),
        "B": fmt(top.bid_qty),
        "a": fmt(top.ask),
        "A": fmt(top.ask_qty),
        "o": fmt(open_price),
        "h": fmt(stats["high"]),
        "l": fmt(stats["low"]),
        "v": fmt(volume),
        "q": fmt(stats["quote_volume"]),
        "O": max(stats["open_time"], now_ms - DAY_MS),
        "C": now_ms,
        "F": stats["first_id"],
        "L": stats["last_id"],
        "n": stats["count"],
    }


def trade(
    symbol: str, trade_id: int, price: Decimal, qty: Decimal, buyer_is_maker: bool, now_ms: int
) -> dict[str, Any]:
    return {
        "e": "trade",
        "E": now_ms,
        "s": symbol,
        "t": trade_id,
        "p": fmt(price),
        "q": fmt(qty),
        "T": now_ms,
        "m": buyer_is_maker,
        "M": True,
    }
