"""Every rejection of a new order, with Binance's code and exact message."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from simcore_helpers import Env, raises

LIMIT = {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}


def mandatory(name: str) -> str:
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"side": "BUY", "type": "MARKET", "quantity": "1"}, -1102, mandatory("symbol")),
        ({**LIMIT, "symbol": "DOGEUSDT"}, -1121, "Invalid symbol."),
        ({"symbol": "SOLUSDT", "type": "MARKET", "quantity": "1"}, -1102, mandatory("side")),
        ({**LIMIT, "side": "HOLD"}, -1117, "Invalid side."),
        ({"symbol": "SOLUSDT", "side": "BUY", "quantity": "1"}, -1102, mandatory("type")),
        ({**LIMIT, "type": "ICEBERG"}, -1116, "Invalid orderType."),
        ({**LIMIT, "timeInForce": "GTD", "quantity": "1", "price": "99"}, -1115,
         "Invalid timeInForce."),
        ({**LIMIT, "price": "99"}, -1102, mandatory("quantity")),
        ({**LIMIT, "quantity": "1"}, -1102, mandatory("price")),
        ({**LIMIT, "timeInForce": "", "quantity": "1", "price": "99"}, -1102,
         mandatory("timeInForce")),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET"}, -1102,
         "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "STOP_LOSS", "quantity": "1"}, -1102,
         "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!"),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "1", "price": "9"},
         -1106, "Parameter 'price' sent when not required."),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "1",
          "timeInForce": "GTC"}, -1106, "Parameter 'timeInForce' sent when not required."),
        ({**LIMIT, "quantity": "1", "price": "99", "stopPrice": "98"}, -1106,
         "Parameter 'stopPrice' sent when not required."),
        ({**LIMIT, "quantity": "1.0000000001", "price": "99"}, -1111,
         "Parameter 'quantity' has too much precision."),
        ({**LIMIT, "quantity": "1", "price": "-99"}, -1100,
         "Illegal characters found in parameter 'price'; legal range is "
         "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."),
        ({**LIMIT, "quantity": "1", "price": "99", "newClientOrderId": "bad id!"}, -1100,
         "Illegal characters found in parameter 'newClientOrderId'; legal range is "
         "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."),
        ({**LIMIT, "quantity": "1", "price": "99.005"}, -1013, "Filter failure: PRICE_FILTER"),
        ({**LIMIT, "quantity": "1", "price": "0"}, -1013, "Filter failure: PRICE_FILTER"),
        ({**LIMIT, "quantity": "1", "price": "600"}, -1013,
         "Filter failure: PERCENT_PRICE_BY_SIDE"),
        ({**LIMIT, "quantity": "0.0005", "price": "99"}, -1013, "Filter failure: LOT_SIZE"),
        ({**LIMIT, "quantity": "0.01", "price": "99"}, -1013, "Filter failure: NOTIONAL"),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "20001"}, -1013,
         "Filter failure: MARKET_LOT_SIZE"),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "4"}, -1013,
         "Filter failure: NOTIONAL"),
        ({"symbol": "SOLUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "1",
          "trailingDelta": "5"}, -1013, "Filter failure: TRAILING_DELTA"),
        ({**LIMIT, "quantity": "1", "price": "99", "selfTradePreventionMode": "TRANSFER"},
         -1013, "This symbol does not allow the specified self-trade prevention mode."),
        ({"symbol": "SOLUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "1",
          "stopPrice": "100.50"}, -2010, "Order would trigger immediately."),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "TAKE_PROFIT_LIMIT", "quantity": "1",
          "stopPrice": "100.50", "price": "100.50", "timeInForce": "GTC"}, -2010,
         "Order would trigger immediately."),
    ],
)  # fmt: skip
def test_new_order_rejections(env: Env, params: dict[str, str], code: int, msg: str) -> None:
    alice = env.account(USDT="1000000", SOL="1000")
    raises(code, msg, lambda: env.ex.new_order(alice, params))
    assert env.ex.oracle(alice)["orders"] == []


def test_insufficient_balance_for_every_kind_of_order(env: Env) -> None:
    poor = env.account(USDT="50", SOL="0.5")
    msg = "Account has insufficient balance for requested action."
    attempts: list[dict[str, Any]] = [
        {**LIMIT, "quantity": "1", "price": "99"},
        {"symbol": "SOLUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "1", "price": "101"},
        {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.5"},
        {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "60"},
        {"symbol": "SOLUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.6"},
        {"symbol": "SOLUSDT", "side": "BUY", "type": "STOP_LOSS", "quantity": "1",
         "stopPrice": "101"},
    ]  # fmt: skip
    for params in attempts:
        raises(-2010, msg, lambda p=params: env.ex.new_order(poor, p))
    assert env.balance(poor, "USDT") == ("50.00000000", "0.00000000")
    # exactly enough is enough: 0.499 at 100.01 costs 49.90499
    env.market(poor, "BUY", "0.499")
    assert env.balance(poor, "USDT") == ("0.09501000", "0.00000000")


def test_duplicate_client_order_id_only_while_the_first_is_open(env: Env) -> None:
    alice = env.account(USDT="1000")
    first = env.limit(alice, "BUY", "1", "99", newClientOrderId="my-order_1")
    raises(
        -2010,
        "Duplicate order sent.",
        lambda: env.limit(alice, "BUY", "1", "98", newClientOrderId="my-order_1"),
    )
    env.ex.cancel_order(alice, {"symbol": "SOLUSDT", "orderId": str(first["orderId"])})
    again = env.limit(alice, "BUY", "1", "98", newClientOrderId="my-order_1")
    assert again["clientOrderId"] == "my-order_1"
    found = env.ex.get_order(alice, {"symbol": "SOLUSDT", "origClientOrderId": "my-order_1"})
    assert found["orderId"] == again["orderId"]
    # another account may use the same id
    bob = env.account(USDT="1000")
    assert env.limit(bob, "BUY", "1", "98", newClientOrderId="my-order_1")["status"] == "NEW"


def test_max_num_orders_and_max_num_algo_orders(env: Env) -> None:
    alice = env.account(USDT="1000000", SOL="1000")
    for i in range(5):
        env.order(alice, side="SELL", type="STOP_LOSS", quantity="1", stopPrice=str(90 + i))
    raises(
        -1013,
        "Filter failure: MAX_NUM_ALGO_ORDERS",
        lambda: env.order(alice, side="SELL", type="STOP_LOSS", quantity="1", stopPrice="80"),
    )
    for i in range(195):
        env.limit(alice, "BUY", "1", str(D("90") - D(i) / 100))
    raises(-1013, "Filter failure: MAX_NUM_ORDERS", lambda: env.limit(alice, "BUY", "1", "50"))
    # another symbol has its own count
    response = env.ex.new_order(
        alice,
        {"symbol": "BNBUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "1", "price": "400"},
    )  # fmt: skip
    assert response["status"] == "NEW"


def test_unknown_account_is_an_invalid_key(env: Env) -> None:
    raises(
        -2015,
        "Invalid API-key, IP, or permissions for action.",
        lambda: env.ex.new_order(99, {**LIMIT, "quantity": "1", "price": "99"}),
    )
