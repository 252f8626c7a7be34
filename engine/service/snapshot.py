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
                    "last_summary": str | null,
                    "last_differences": [{"client_order_id", "symbol", "order_id", "book",
                                          "exchange", "detail"}]},  # orders open here the
                    # exchange does not find; the operator accepts: Reconcile {"accept": true}
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
                      "banned_for_s": float,
                      "state": "OK" | "THROTTLED" | "ORDERS_BLOCKED" | "PAUSED" | "BANNED",
                      "banned_until": time | null,   # the 418 ban's end: the desk's countdown
                      "throttle_fraction": float, "window_reset_in_s": float | null,
                      "waiting": int},                # requests held for the next window
      "circuit_breaker": {"state": "CLOSED" | "OPEN" | "HALF_OPEN", "consecutive_errors": int,
                          "threshold": int, "auto_close": bool, "cooldown_s": float,
                          "reason": str | null, "opened_at": time | null,
                          "probe_in_s": float | null, "last_error": str | null, "trips": int},
      "maintenance": {"active": bool, "reason": str | null, "since": time | null,
                      "paused_symbols": {symbol: status}},   # symbols not TRADING
      "housekeeping": {"book_orders": int, "recent_orders": int, "recent_limit": int,
                       "cancel_stale_after_s": float | null, "stale_canceled": int},
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
      "watch_list": [{"client_order_id", "since", "symbol", "not_found", "presumed_absent",
                      "presumed_absent_at", "evidence"}],  # creates unanswered, until settled;
                      # presumed_absent: the proof-of-absence policy held (never resent)
      "marks": [{"symbol", "bid", "ask", "last", "age_s"}],
      "symbols": [{"symbol", "base_asset", "quote_asset", "status", "tick_size", "step_size",
                   "min_qty", "min_notional"}],
      "risk": {"trading": {"state", "reason", "at"},  # the state, why, and since when
               "gauges": [{"name", "value", "limit", "ratio", "level", "unit", "note"}],
               # exposure, daily_loss, trades, positions, request_weight; level ok|warning|breach
               "day": {"day", "rollover_hour", "trades", "orders", "realized_pnl": {asset: str},
                       "fees": {asset: str}},
               "equity": str, "limits": {RiskLimits' fields}},
      "preflight": {"passed": bool | null, "at": time | null,    # null before the first run
                    "checks": [{"name", "verdict": "ok" | "warn" | "fail", "reason"}],
                    "accepted_key_risks": [str],   # SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS: show
                    "rerun": {"on_arm": true, "interval_s": float | null}},
      "live": {"state": "not_required" | "awaiting_confirmation" | "starting" | "confirmed",
               "confirm_word": "LIVE", "last_error": str | null, "confirmed_at": time | null}
               # awaiting_confirmation: a LIVE engine connects to nothing until the operator
               # types the word (ConfirmLive {"typed": ...}); the snapshot is then a placeholder
               # with seq 0 (engine/security/live_gate.py)
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
            "state": budget.state.value,
            "banned_until": None
            if budget.banned_until is None
            else budget.banned_until.isoformat(),
            "throttle_fraction": budget.throttle_fraction,
            "window_reset_in_s": None
            if budget.window_reset_in_s is None
            else round(budget.window_reset_in_s, 3),
            "waiting": budget.waiting,
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
            {
                "client_order_id": cid,
                "since": entry.since.isoformat(),
                "symbol": entry.symbol,
                "not_found": entry.not_found,
                "presumed_absent": entry.presumed_absent,
                "presumed_absent_at": None
                if entry.presumed_absent_at is None
                else entry.presumed_absent_at.isoformat(),
                "evidence": entry.evidence or None,
            }
            for cid, entry in sorted(parts.watch.items())
        ],
        "marks": marks,
        "symbols": [_symbol_json(parts.rules[s]) for s in parts.symbols if s in parts.rules],
        "risk": {"trading": gate.machine.to_json(), **(risk or {})},
    }
