"""The shared enums: Binance's spellings, terminal states and the forward rank."""

from __future__ import annotations

import pytest

from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce


def test_binance_spellings() -> None:
    assert [s.value for s in Side] == ["BUY", "SELL"]
    assert Side.BUY.opposite is Side.SELL and Side.SELL.opposite is Side.BUY
    assert [t.value for t in TimeInForce] == ["GTC", "IOC", "FOK"]
    assert {t.value for t in OrderType} == {
        "LIMIT",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
        "LIMIT_MAKER",
    }
    assert [o.value for o in Origin] == ["DESK", "EXTERNAL", "ADOPTED"]


def test_order_type_properties() -> None:
    priced = {t for t in OrderType if t.has_limit_price}
    triggered = {t for t in OrderType if t.has_stop_price}
    at_market = {t for t in OrderType if t.executes_at_market}
    assert priced == {
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
    assert triggered == {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
    assert at_market == {OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT}


def test_terminal_states_and_rank() -> None:
    terminal = {s for s in OrderState if s.is_terminal}
    assert terminal == {
        OrderState.FILLED,
        OrderState.CANCELED,
        OrderState.REJECTED,
        OrderState.EXPIRED,
    }
    assert OrderState.UNKNOWN.is_open and OrderState.NEW.is_open and not OrderState.FILLED.is_open
    ranks = [
        OrderState.PENDING_NEW.rank,
        OrderState.NEW.rank,
        OrderState.PARTIALLY_FILLED.rank,
        OrderState.FILLED.rank,
    ]
    assert ranks == [0, 1, 2, 3]
    assert {s.rank for s in terminal} == {3}
    with pytest.raises(ValueError, match="UNKNOWN has no rank"):
        _ = OrderState.UNKNOWN.rank
