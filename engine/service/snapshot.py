"""The engine's snapshot: the whole current state as one JSON-ready dict (`status --json`).

Schema (version 1). Decimals are strings, times ISO-8601 UTC strings, absent values null.

    {
      "schema": 1,
      "seq": int,                 # the last event this state includes; resume events after it
      "mode": "sim" | "testnet" | "live",
      "account": str,
      "trading_state": "ACTIVE" | "REDUCING" | "HALTED",
      "halt_reason": str | null,  # set when HALTED; the reason in any state is under risk
      "reconciled": bool,         # false: no new orders until reconciliation is clean
      "reconcile": {"reason": str | null, "last_at": time | null, "last_clean": bool | null,
                    "last_summary": str | null},
      "health": {
        "rest":        {"state": "OK" | "DEGRADED" | "UNKNOWN", "last_ok_age_s": float | null,
                        "last_error": str | null},
        "user_stream": {"state": "CONNECTED" | "DEGRADED" | "DOWN", "reason": str,
                        "last_event_age_s": float | null},
        "market":      (same shape as user_stream),
        "journal":     {"state": "OK" | "FAILED", "reason": str | null}
      },
      "clock_offset_ms": int | null,   # server time minus local time, as used for signing
      "rate_budget": {"used_weight_1m": int | null, "weight_limit_1m": int,
                      "order_count_10s": int | null, "order_count_1d": int | null,
                      "blocked_for_s": float, "orders_blocked_for_s": float,
                      "banned_for_s": float},
      "balances": [{"asset", "free", "locked", "total"}],          # by asset
      "positions": [{"symbol", "base_asset", "quote_asset", "qty", "sellable_qty",
                     "avg_entry", "mark", "unrealized_pnl", "realized_pnl", "fees",
                     "entry_known": bool, "adopted": bool, "updated_at"}],
                     # avg_entry/unrealized_pnl null when the entry is unknown;
                     # mark/sellable_qty null without a fresh mark
      "orders": {"open":   [order], "recent": [order]},           # recent: settled, newest last
         order = {"client_order_id", "symbol", "side", "type", "time_in_force", "qty",
                  "quote_qty", "price", "state", "cum_qty", "cum_quote", "avg_price",
                  "origin": "DESK" | "EXTERNAL" | "ADOPTED", "order_id", "cancel_requested",
                  "reject_reason", "expiry_reason", "created_at", "updated_at"}
      "watch_list": [{"client_order_id", "since"}],  # creates unanswered and not found (-2013)
      "marks": [{"symbol", "bid", "ask", "last", "age_s"}],
      "symbols": [{"symbol", "base_asset", "quote_asset", "status", "tick_size", "step_size",
                   "min_qty", "min_notional"}],
      "risk": {"trading": {"state", "reason", "at"},  # the state, why, and since when
               "gauges": [{"name", "value", "limit", "ratio", "level", "unit", "note"}],
               # exposure, daily_loss, trades, positions, request_weight; level ok|warning|breach
               "day": {"day", "rollover_hour", "trades", "orders", "realized_pnl": {asset: str},
                       "fees": {asset: str}},
               "equity": str, "limits": {RiskLimits' fields}}
    }
"""

from __future__ import annotations

from typing import Any

from engine.core.position import Position
from engine.core.rules import SymbolRules
from engine.service.parts import Parts
from engine.service.payloads import decimal_text, order_json
from engine.service.port import clock_offset_ms

SCHEMA_VERSION = 1


def position_json(parts: Parts, position: Position) -> dict[str, Any]:
    mark = parts.mark_price(position.symbol)
    sellable = None
    if mark is not None:
        sellable = min(parts.ledger.sellable_qty(position.symbol, mark), position.qty)
    return {
        "symbol": position.symbol,
        "base_asset": position.base_asset,
        "quote_asset": position.quote_asset,
        "qty": decimal_text(position.qty),
        "sellable_qty": decimal_text(sellable),
        "avg_entry": decimal_text(position.avg_entry_price),
        "mark": decimal_text(mark),
        "unrealized_pnl": decimal_text(None if mark is None else position.unrealized_pnl(mark)),
        "realized_pnl": decimal_text(position.realized_pnl),
        "fees": decimal_text(position.fees_paid),
        "entry_known": position.entry_known,
        "adopted": position.adopted,
        "updated_at": None if position.updated_at is None else position.updated_at.isoformat(),
    }


def _symbol_json(rules: SymbolRules) -> dict[str, Any]:
    lot = rules.lot_size
    notional = min((f.min_notional for f in rules.notional_filters), default=None)
    return {
        "symbol": rules.symbol,
        "base_asset": rules.base_asset,
        "quote_asset": rules.quote_asset,
        "status": rules.status,
        "tick_size": decimal_text(rules.tick_size),
        "step_size": decimal_text(rules.qty_step()),
        "min_qty": None if lot is None else decimal_text(lot.min_qty),
        "min_notional": decimal_text(notional),
    }


def build_snapshot(
    parts: Parts,
    *,
    seq: int,
    last_reconcile: dict[str, Any],
    risk: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The snapshot of a started engine (see the module docstring for the schema)."""
    gate = parts.gate
    now = parts.clock.now()
    budget = parts.venue.budget.snapshot()
    marks = []
    for symbol in parts.symbols:
        mark = parts.marks.get(symbol)
        if mark is not None:
            marks.append(
                {
                    "symbol": symbol,
                    "bid": decimal_text(mark.bid),
                    "ask": decimal_text(mark.ask),
                    "last": decimal_text(mark.last),
                    "age_s": round((now - mark.at).total_seconds(), 3),
                }
            )
    return {
        "schema": SCHEMA_VERSION,
        "seq": seq,
        "mode": parts.options.mode,
        "account": parts.options.account,
        "trading_state": gate.state.value,
        "halt_reason": gate.halt_reason,
        "reconciled": gate.reconciled,
        "reconcile": {"reason": gate.reconcile_reason or None, **last_reconcile},
        "health": {
            "rest": parts.link.rest_json(),
            "user_stream": parts.link.stream_json("user"),
            "market": parts.link.stream_json("market"),
            "journal": {
                "state": "OK" if gate.journal_failure is None else "FAILED",
                "reason": gate.journal_failure,
            },
        },
        "clock_offset_ms": clock_offset_ms(parts.venue),
        "rate_budget": {
            "used_weight_1m": budget.used_weight_1m,
            "weight_limit_1m": budget.weight_limit_1m,
            "order_count_10s": budget.order_count_10s,
            "order_count_1d": budget.order_count_1d,
            "blocked_for_s": round(budget.blocked_for_s, 3),
            "orders_blocked_for_s": round(budget.orders_blocked_for_s, 3),
            "banned_for_s": round(budget.banned_for_s, 3),
        },
        "balances": [
            {
                "asset": b.asset,
                "free": decimal_text(b.free),
                "locked": decimal_text(b.locked),
                "total": decimal_text(b.total),
            }
            for b in parts.ledger.balances
        ],
        "positions": [position_json(parts, p) for p in parts.ledger.positions()],
        "orders": {
            "open": [order_json(o) for o in parts.book],
            "recent": [order_json(o) for o in parts.pipeline.recent],
        },
        "watch_list": [
            {"client_order_id": cid, "since": since.isoformat()}
            for cid, since in sorted(parts.watch.items())
        ],
        "marks": marks,
        "symbols": [_symbol_json(parts.rules[s]) for s in parts.symbols if s in parts.rules],
        "risk": {"trading": gate.machine.to_json(), **(risk or {})},
    }
