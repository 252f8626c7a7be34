"""A fixed desk session for screenshots and snapshot tests: every value on screen is written here.

One SIM account holding BTC (protected by an OCO) and ETH, a resting buy, some finished orders, a
trading day of events; `halted()` is the same desk after the circuit breaker halted trading with
an order's outcome unknown; the engine's answers are in `tui.scenario_answers`. The shapes are the
engine's (`engine/service/snapshot.py`); a test compares them with a real engine's, so the script
cannot drift from what an engine sends. Times are fixed, so every frame drawn from this script is
the same, byte for byte.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tui.scenario_answers import answer
from tui.scripted import ScriptedClient

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
TAG = "sd-t8k2p41"
HALT_REASON = "circuit breaker: 5 venue failures in a row (Unknown: no answer within 10 s)"
UNKNOWN_ID = f"{TAG}-10"

Json = dict[str, Any]


def frozen_clock() -> datetime:
    return NOW


def _at(seconds_before: float) -> str:
    return (NOW - timedelta(seconds=seconds_before)).isoformat()


def _symbol(symbol: str, base: str, step: str) -> Json:
    return {
        "symbol": symbol,
        "base_asset": base,
        "quote_asset": "USDT",
        "status": "TRADING",
        "tick_size": "0.01000000",
        "step_size": step,
        "min_qty": step,
        "min_notional": "5.00000000",
    }


def _order(
    number: int, symbol: str, side: str, kind: str, qty: str, state: str, **more: Any
) -> Json:
    order: Json = {
        "client_order_id": f"{TAG}-{number}",
        "symbol": symbol,
        "side": side,
        "type": kind,
        "time_in_force": None if kind == "MARKET" else "GTC",
        "qty": qty,
        "quote_qty": None,
        "price": None,
        "state": state,
        "cum_qty": "0",
        "cum_quote": "0",
        "avg_price": None,
        "origin": "DESK",
        "order_id": 100 + number,
        "cancel_requested": False,
        "reject_reason": None,
        "expiry_reason": None,
        "created_at": _at(3600 - number * 60),
        "updated_at": _at(3000 - number * 60),
    }
    order.update(more)
    return order


def _gauge(name: str, value: str, limit: str, ratio: str, unit: str, level: str = "ok") -> Json:
    return {
        "name": name,
        "value": value,
        "limit": limit,
        "ratio": ratio,
        "level": level,
        "unit": unit,
        "note": "",
    }


def _link(state: str, age_key: str, age_s: float | None, reason: str | None) -> Json:
    found: Json = {"state": state, age_key: age_s}
    found["reason" if age_key == "last_event_age_s" else "last_error"] = reason
    return found


RESTING_BUY = _order(7, "BTCUSDT", "BUY", "LIMIT", "0.00500", "NEW", price="90000.00")
TAKE_PROFIT = _order(8, "BTCUSDT", "SELL", "TAKE_PROFIT_LIMIT", "0.02000", "NEW", price="101000.00")
STOP_LOSS = _order(9, "BTCUSDT", "SELL", "STOP_LOSS_LIMIT", "0.02000", "NEW", price="91540.00")
FINISHED = [
    _order(4, "ETHUSDT", "SELL", "LIMIT", "0.1000", "CANCELED", price="3600.00"),
    _order(
        5, "ETHUSDT", "BUY", "MARKET", "0.4000", "FILLED",
        cum_qty="0.4000", cum_quote="1365.0000", avg_price="3412.50",
    ),
    _order(
        6, "BTCUSDT", "BUY", "MARKET", "0.02000", "FILLED",
        cum_qty="0.02000", cum_quote="1865.0100", avg_price="93250.50",
    ),
]  # fmt: skip
BTC_PROTECTION: Json = {
    "symbol": "BTCUSDT",
    "quantity": "0.02000",
    "stop_loss": "92000.00",
    "take_profit": "101000.00",
    "trailing_delta_bips": None,
    "trailing_percent": None,
    "high": None,
    "last_move_at": None,
    "status": "ACTIVE",
    "order_ids": [TAKE_PROFIT["client_order_id"], STOP_LOSS["client_order_id"]],
    "list_client_order_id": f"{TAG}-10",
    "moves": 0,
    "message": "",
}


def _position(symbol: str, base: str, qty: str, sellable: str, entry: str, mark: str) -> Json:
    return {
        "symbol": symbol,
        "base_asset": base,
        "quote_asset": "USDT",
        "qty": qty,
        "sellable_qty": sellable,
        "avg_entry": entry,
        "mark": mark,
        "unrealized_pnl": None,
        "realized_pnl": "0",
        "fees": "0",
        "entry_known": True,
        "adopted": False,
        "updated_at": _at(1800),
        "protection": None,
    }


def normal() -> Json:
    """The desk in an ordinary moment: ACTIVE, every link fresh, one gauge in warning."""
    btc = _position("BTCUSDT", "BTC", "0.02000000", "0", "93250.5", "95000")
    btc.update(unrealized_pnl="34.99", fees="1.86501", protection=dict(BTC_PROTECTION))
    eth = _position("ETHUSDT", "ETH", "0.40000000", "0.4", "3412.5", "3500")
    eth.update(unrealized_pnl="35", realized_pnl="12.4", fees="1.365")
    return {
        "schema": 1,
        "seq": len(_EVENTS),
        "mode": "sim",
        "account": "default",
        "trading_state": "ACTIVE",
        "halt_reason": None,
        "reconciled": True,
        "reconcile": {
            "reason": None,
            "last_at": _at(120),
            "last_clean": True,
            "last_summary": "3 open order(s), 0 queried, 0 trade(s) folded in",
            "last_differences": [],
        },
        "health": {
            "rest": _link("OK", "last_ok_age_s", 0.4, None),
            "user_stream": _link("CONNECTED", "last_event_age_s", 1.2, "connected"),
            "market": _link("CONNECTED", "last_event_age_s", 0.3, "connected"),
            "journal": {"state": "OK", "reason": None},
        },
        "clock_offset_ms": -3,
        "rate_budget": {
            "used_weight_1m": 212,
            "weight_limit_1m": 6000,
            "order_count_10s": 1,
            "order_count_1d": 9,
            "blocked_for_s": 0.0,
            "orders_blocked_for_s": 0.0,
            "banned_for_s": 0.0,
            "state": "OK",
            "banned_until": None,
            "throttle_fraction": 0.8,
            "window_reset_in_s": 41.5,
            "waiting": 0,
        },
        "balances": [
            {"asset": "BNB", "free": "0", "locked": "0", "total": "0"},
            {"asset": "BTC", "free": "0", "locked": "0.02", "total": "0.02"},
            {"asset": "ETH", "free": "0.4", "locked": "0", "total": "0.4"},
            {"asset": "USDT", "free": "7551.2034", "locked": "450", "total": "8001.2034"},
        ],
        "positions": [btc, eth],
        "orders": {"open": [RESTING_BUY, TAKE_PROFIT, STOP_LOSS], "recent": list(FINISHED)},
        "watch_list": [],
        "marks": [
            {"symbol": s, "bid": bid, "ask": ask, "last": last, "age_s": 0.3}
            for s, bid, ask, last in (
                ("BTCUSDT", "94999.99", "95000.01", "95000.00"),
                ("ETHUSDT", "3499.99", "3500.01", "3500.00"),
                ("BNBUSDT", "619.99", "620.01", "620.00"),
            )
        ],
        "symbols": [
            _symbol("BTCUSDT", "BTC", "0.00001000"),
            _symbol("ETHUSDT", "ETH", "0.00010000"),
            _symbol("BNBUSDT", "BNB", "0.00100000"),
        ],
        "risk": {
            "trading": {"state": "ACTIVE", "reason": "armed for the day", "at": _at(7200)},
            "gauges": [
                _gauge("exposure", "3750", "6000", "0.625", "USDT"),
                _gauge("daily_loss", "2.35", "300", "0.0078", "USDT"),
                _gauge("trades", "41", "50", "0.82", "buys", "warning"),
                _gauge("positions", "2", "5", "0.4", "positions"),
                _gauge("request_weight", "212", "6000", "0.0353", "weight"),
            ],
            "equity": "11301.2034",
        },
        "circuit_breaker": {
            "state": "CLOSED",
            "consecutive_errors": 0,
            "threshold": 5,
            "auto_close": False,
            "cooldown_s": 60.0,
            "reason": None,
            "opened_at": None,
            "probe_in_s": None,
            "last_error": None,
            "trips": 0,
        },
        "maintenance": {"active": False, "reason": None, "since": None, "paused_symbols": {}},
        "live": {
            "state": "not_required",
            "confirm_word": "LIVE",
            "last_error": None,
            "confirmed_at": None,
        },
        "preflight": {
            "passed": True,
            "at": _at(7300),
            "checks": [
                {
                    "name": "keys",
                    "verdict": "ok",
                    "reason": "accepted (HMAC); the account may trade",
                },
                {"name": "clock", "verdict": "ok", "reason": "3 ms from the exchange's clock"},
            ],
            "accepted_key_risks": [],
            "rerun": {"on_arm": True, "interval_s": None},
        },
    }


def halted() -> Json:
    """The circuit breaker halted trading: REST degraded, one order's outcome unknown."""
    snapshot = normal()
    unknown = _order(10, "ETHUSDT", "BUY", "LIMIT", "0.1000", "UNKNOWN", price="3450.00")
    snapshot.update(
        seq=len(_EVENTS) + len(_HALT_EVENTS),
        trading_state="HALTED",
        halt_reason=HALT_REASON,
        clock_offset_ms=-4,
    )
    snapshot["health"]["rest"] = _link("DEGRADED", "last_ok_age_s", 48.0, "Unknown: timeout")
    snapshot["orders"]["open"] = [RESTING_BUY, TAKE_PROFIT, STOP_LOSS, unknown]
    snapshot["watch_list"] = [
        {
            "client_order_id": UNKNOWN_ID,
            "since": _at(47),
            "symbol": "ETHUSDT",
            "not_found": 1,
            "presumed_absent": False,
            "presumed_absent_at": None,
            "evidence": None,
        }
    ]
    snapshot["risk"]["trading"] = {"state": "HALTED", "reason": HALT_REASON, "at": _at(40)}
    snapshot["circuit_breaker"].update(
        state="OPEN",
        consecutive_errors=5,
        reason=HALT_REASON,
        opened_at=_at(40),
        last_error="Unknown: no answer within 10 s",
        trips=1,
    )
    return snapshot


# -- events ---------------------------------------------------------------------------------------


def _events(first_seq: int, rows: list[tuple[float, Json]]) -> list[Json]:
    return [
        {"seq": first_seq + index, "ts": _at(before), "alarm": False, **body}
        for index, (before, body) in enumerate(rows)
    ]


def _order_event(kind: str, order: Json) -> Json:
    return {"event": kind, "order": order}


def _fill(order: Json, price: str, commission: str, asset: str) -> Json:
    fill = {
        "symbol": order["symbol"],
        "side": order["side"],
        "qty": order["cum_qty"],
        "price": price,
        "commission": commission,
        "commission_asset": asset,
    }
    return {"event": "OrderFilled", "fill": fill, "order": order}


def _balance(asset: str, free: str, locked: str) -> Json:
    return {"event": "BalanceChanged", "balance": {"asset": asset, "free": free, "locked": locked}}


_ETH_BUY, _BTC_BUY = FINISHED[1], FINISHED[2]
_EVENTS = _events(
    1,
    [
        (7300, {"event": "StreamHealthChanged", "stream": "user", "health": "CONNECTED",
                "reason": "connected"}),
        (7299, {"event": "ReconcileFinished", "trigger": "start", "clean": True,
                "summary": "0 open order(s), 0 queried, 0 trade(s) folded in"}),
        (7298, {"event": "StreamHealthChanged", "stream": "market", "health": "CONNECTED",
                "reason": "connected"}),
        (7200, {"event": "TradingStateChanged", "previous": "HALTED", "state": "ACTIVE",
                "reason": "armed for the day"}),
        (3360, _order_event("OrderCanceled", FINISHED[0])),
        (3300, _order_event("OrderAccepted", _ETH_BUY)),
        (3300, _fill(_ETH_BUY, "3412.50", "1.365", "USDT")),
        (3300, _balance("ETH", "0.4", "0")),
        (3240, _order_event("OrderAccepted", _BTC_BUY)),
        (3240, _fill(_BTC_BUY, "93250.50", "1.86501", "USDT")),
        (3239, _order_event("OrderAccepted", TAKE_PROFIT)),
        (3239, _order_event("OrderAccepted", STOP_LOSS)),
        (3238, _balance("BTC", "0", "0.02")),
        (3180, _order_event("OrderAccepted", RESTING_BUY)),
        (3180, _balance("USDT", "7551.2034", "450")),
        (120, {"event": "ReconcileFinished", "trigger": "periodic", "clean": True,
               "summary": "3 open order(s), 0 queried, 0 trade(s) folded in"}),
    ],
)  # fmt: skip
_HALT_EVENTS = _events(
    len(_EVENTS) + 1,
    [
        (47, {"event": "OrderSubmitted", "order": _order(10, "ETHUSDT", "BUY", "LIMIT", "0.1000",
              "PENDING_NEW", price="3450.00")}),
        (42, {"event": "OrderStateUnknown", "order": _order(10, "ETHUSDT", "BUY",
              "LIMIT", "0.1000", "UNKNOWN", price="3450.00")}),
        (40, {"event": "TradingStateChanged", "previous": "ACTIVE", "state": "HALTED",
              "reason": HALT_REASON}),
        (40, {"event": "EngineAlarm", "alarm": True, "kind": "breaker",
              "message": "trading halted: the exchange stopped answering"}),
    ],
)  # fmt: skip


def events() -> list[Json]:
    return [dict(event) for event in _EVENTS]


def halted_events() -> list[Json]:
    return events() + [dict(event) for event in _HALT_EVENTS]


def client(*, halted_state: bool = False) -> ScriptedClient:
    """A scripted engine showing the normal desk, or the halted one."""
    if halted_state:
        return ScriptedClient(halted(), halted_events(), answer=answer)
    return ScriptedClient(normal(), events(), answer=answer)
