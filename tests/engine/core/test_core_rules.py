"""Symbol rules from exchangeInfo: parsing, rounding toward safety, and every -1013 reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.core.filters import (
    LotSize,
    NotionalFilter,
    PercentPrice,
    PriceFilter,
    ceil_to_step,
    floor_to_step,
    is_multiple,
)
from engine.core.rules import SymbolRules
from engine.core.types import OrderType, Side
from engine.core.wire import MalformedPayload

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def btcusdt(**overrides: Any) -> dict[str, Any]:
    """An exchangeInfo entry shaped like Binance's BTCUSDT."""
    entry: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "baseAssetPrecision": 8,
        "quoteAsset": "USDT",
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
            "SOME_FUTURE_TYPE",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01000000",
                "maxPrice": "1000000.00000000",
                "tickSize": "0.01000000",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "120.00000000",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    }
    entry.update(overrides)
    return entry


@pytest.fixture
def rules() -> SymbolRules:
    return SymbolRules.from_exchange_info(btcusdt())


def test_parses_every_filter_it_uses(rules: SymbolRules) -> None:
    assert (rules.symbol, rules.status, rules.base_asset, rules.quote_asset) == (
        "BTCUSDT",
        "TRADING",
        "BTC",
        "USDT",
    )
    assert rules.order_types == frozenset(OrderType)
    assert rules.price_filter == PriceFilter(D("0.01"), D("1000000"), D("0.01"))
    assert rules.lot_size == LotSize("LOT_SIZE", D("0.00001"), D("9000"), D("0.00001"))
    assert rules.market_lot_size == LotSize("MARKET_LOT_SIZE", D(0), D("120"), D(0))
    assert rules.notional_filters == (NotionalFilter("NOTIONAL", D(5), D(9000000), True, False, 5),)
    assert rules.percent_price_filters == (
        PercentPrice("PERCENT_PRICE_BY_SIDE", D(5), D("0.2"), D(5), D("0.2"), 5),
    )
    assert (rules.max_num_orders, rules.max_num_algo_orders) == (200, 5)
    assert rules.quote_order_qty_market_allowed is True


def test_parses_legacy_filters() -> None:
    rules = SymbolRules.from_exchange_info(
        btcusdt(
            quoteOrderQtyMarketAllowed=False,
            filters=[
                {
                    "filterType": "MIN_NOTIONAL",
                    "minNotional": "10",
                    "applyToMarket": False,
                    "avgPriceMins": 1,
                },
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.3",
                    "multiplierDown": "0.7",
                    "avgPriceMins": 5,
                },
            ],
        )
    )
    assert rules.notional_filters == (NotionalFilter("MIN_NOTIONAL", D(10), None, False, False, 1),)
    assert rules.percent_price_filters == (
        PercentPrice("PERCENT_PRICE", D("1.3"), D("0.7"), D("1.3"), D("0.7"), 5),
    )
    assert (rules.price_filter, rules.lot_size, rules.max_num_orders) == (None, None, None)
    assert rules.quote_order_qty_market_allowed is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([], "expected a JSON object"),
        (btcusdt(filters={"filterType": "LOT_SIZE"}), "filters: expected a list"),
        (
            btcusdt(
                filters=[
                    {"filterType": "LOT_SIZE", "minQty": 0.001, "maxQty": "1", "stepSize": "0.001"}
                ]
            ),
            "LOT_SIZE.minQty: expected a decimal string, got float",
        ),
        (btcusdt(filters=[{"filterType": "PRICE_FILTER", "minPrice": "0"}]), "missing field"),
        ({"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC"}, "'quoteAsset'"),
    ],
)
def test_malformed_exchange_info_is_refused(entry: Any, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        SymbolRules.from_exchange_info(entry)


def test_step_helpers_are_exact() -> None:
    assert floor_to_step(D("1.23456789"), D("0.00100000")) == D("1.234")
    assert str(floor_to_step(D("1.23456789"), D("0.00100000"))) == "1.234"
    assert str(ceil_to_step(D("1.23416789"), D("0.001"))) == "1.235"
    assert str(ceil_to_step(D("1.234"), D("0.001"))) == "1.234"
    assert str(floor_to_step(D("123"), D("10"))) == "120"
    assert floor_to_step(D("1.23456"), D(0)) == D("1.23456")
    assert ceil_to_step(D("1.23456"), D(0)) == D("1.23456")
    assert is_multiple(D("0.123"), D("0.001")) and not is_multiple(D("0.1234"), D("0.001"))
    assert is_multiple(D("0.1234"), D(0))


def test_quantity_is_floored(rules: SymbolRules) -> None:
    assert rules.floor_qty(D("0.123456789")) == D("0.12345")
    # MARKET_LOT_SIZE's step of 0 falls back to LOT_SIZE's.
    assert rules.qty_step(market=True) == D("0.00001")
    assert rules.floor_qty(D("0.123456789"), market=True) == D("0.12345")
    coarse = SymbolRules.from_exchange_info(
        btcusdt(
            filters=[
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"},
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": "0.01",
                    "maxQty": "10",
                    "stepSize": "0.01",
                },
            ]
        )
    )
    assert coarse.qty_step(market=True) == D("0.01")
    assert coarse.floor_qty(D("1.2399"), market=True) == D("1.23")
    assert coarse.floor_qty(D("1.2399")) == D("1.239")
    bare = SymbolRules("X", "TRADING", "A", "B", frozenset(OrderType))
    assert (bare.qty_step(), bare.tick_size) == (D(0), D(0))
    assert bare.floor_qty(D("1.23")) == D("1.23")


def test_limit_prices_round_to_the_side_that_never_trades_worse(rules: SymbolRules) -> None:
    assert rules.round_price(D("100.019"), BUY) == D("100.01")
    assert rules.round_price(D("100.011"), SELL) == D("100.02")
    assert rules.round_price(D("100.01"), SELL) == D("100.01")


@pytest.mark.parametrize(
    ("side", "order_type", "expected"),
    [
        (SELL, OrderType.STOP_LOSS, "99.02"),  # below the market: up, triggers sooner
        (SELL, OrderType.STOP_LOSS_LIMIT, "99.02"),
        (BUY, OrderType.TAKE_PROFIT, "99.02"),
        (BUY, OrderType.TAKE_PROFIT_LIMIT, "99.02"),
        (BUY, OrderType.STOP_LOSS, "99.01"),  # above the market: down, triggers sooner
        (SELL, OrderType.TAKE_PROFIT, "99.01"),
        (SELL, OrderType.TAKE_PROFIT_LIMIT, "99.01"),
    ],
)
def test_stop_prices_round_toward_the_market(
    rules: SymbolRules, side: Side, order_type: OrderType, expected: str
) -> None:
    assert rules.round_stop_price(D("99.015"), side, order_type) == D(expected)


def test_quantize_reports_what_it_changed(rules: SymbolRules) -> None:
    result = rules.quantize(
        SELL, OrderType.STOP_LOSS_LIMIT, D("0.123456"), D("98.001"), D("99.015")
    )
    assert (result.qty, result.price, result.stop_price) == (D("0.12345"), D("98.01"), D("99.02"))
    assert result.adjusted == ("quantity", "price", "stopPrice")
    unchanged = rules.quantize(BUY, LIMIT, D("0.1"), D("100.00"))
    assert (unchanged.qty, unchanged.price, unchanged.stop_price, unchanged.adjusted) == (
        D("0.1"),
        D("100.00"),
        None,
        (),
    )
    assert rules.quantize(BUY, MARKET, None).adjusted == ()
    on_tick = rules.quantize(SELL, OrderType.STOP_LOSS, D("0.1"), stop_price=D("99.01"))
    assert (on_tick.stop_price, on_tick.adjusted) == (D("99.01"), ())


def test_a_valid_order_has_no_violation(rules: SymbolRules) -> None:
    assert rules.check(BUY, LIMIT, D("0.001"), D("60000.00"), D("60000")) == []
    assert rules.check(SELL, MARKET, D("0.001"), None, D("60000")) == []
    assert rules.check(BUY, MARKET, None, None, D("60000"), quote_qty=D("10")) == []
    assert (
        rules.check(
            SELL,
            OrderType.STOP_LOSS_LIMIT,
            D("0.001"),
            D("59000"),
            D("60000"),
            stop_price=D("59100"),
            open_orders=3,
            open_algo_orders=4,
        )
        == []
    )


def _found(violations: list[Any]) -> list[tuple[str, str, str]]:
    return [(v.filter, v.field, v.message) for v in violations]


def test_lot_size_violations_name_the_numbers(rules: SymbolRules) -> None:
    assert _found(rules.check(BUY, LIMIT, D("0.000001"), D("60000"), None)) == [
        ("LOT_SIZE", "quantity", "quantity 0.000001 is below LOT_SIZE minQty 0.00001000"),
        (
            "LOT_SIZE",
            "quantity",
            "quantity 0.000001 is not a multiple of LOT_SIZE stepSize 0.00001000",
        ),
        ("NOTIONAL", "notional", "notional 0.060000 is below minNotional 5.00000000"),
    ]
    violation = rules.check(BUY, LIMIT, D("9001"), D("1"), None)[0]
    assert (violation.filter, violation.value, violation.limit, str(violation)) == (
        "LOT_SIZE",
        D("9001"),
        D("9000"),
        "quantity 9001 is above LOT_SIZE maxQty 9000.00000000",
    )
    assert _found(rules.check(SELL, MARKET, D("121"), None, D("1"))) == [
        (
            "MARKET_LOT_SIZE",
            "quantity",
            "quantity 121 is above MARKET_LOT_SIZE maxQty 120.00000000",
        ),
    ]


def test_price_filter_violations(rules: SymbolRules) -> None:
    assert _found(rules.check(BUY, LIMIT, D("1"), D("0.005"), None)) == [
        ("PRICE_FILTER", "price", "price 0.005 is below minPrice 0.01000000"),
        ("PRICE_FILTER", "price", "price 0.005 is not a multiple of tickSize 0.01000000"),
        ("NOTIONAL", "notional", "notional 0.005 is below minNotional 5.00000000"),
    ]
    assert _found(
        rules.check(
            SELL, OrderType.STOP_LOSS, D("0.001"), None, D("60000"), stop_price=D("2000000")
        )
    ) == [
        ("PRICE_FILTER", "stopPrice", "stopPrice 2000000 is above maxPrice 1000000.00000000"),
    ]


def test_notional_uses_the_limit_price_or_for_market_the_reference(rules: SymbolRules) -> None:
    assert _found(rules.check(BUY, LIMIT, D("0.0001"), D("40000"), D("60000"))) == [
        ("NOTIONAL", "notional", "notional 4.0000 is below minNotional 5.00000000"),
    ]
    assert _found(rules.check(BUY, MARKET, D("0.0001"), None, D("40000"))) == [
        ("NOTIONAL", "notional", "notional 4.0000 is below minNotional 5.00000000"),
    ]
    # applyMaxToMarket is false: a huge MARKET order passes the notional filter...
    assert rules.check(BUY, MARKET, D("100"), None, D("100000")) == []
    # ...but not a LIMIT one.
    assert _found(rules.check(BUY, LIMIT, D("100"), D("100000"), D("100000"))) == [
        ("NOTIONAL", "notional", "notional 10000000 is above maxNotional 9000000.00000000"),
    ]
    # Without a reference price a MARKET notional cannot be checked.
    assert rules.check(BUY, MARKET, D("0.0001"), None, None) == []
    assert _found(rules.check(BUY, MARKET, None, None, None, quote_qty=D("4"))) == [
        ("NOTIONAL", "notional", "notional 4 is below minNotional 5.00000000"),
    ]


def test_legacy_min_notional_can_skip_market_orders() -> None:
    rules = SymbolRules(
        "X",
        "TRADING",
        "A",
        "B",
        frozenset(OrderType),
        notional_filters=(NotionalFilter("MIN_NOTIONAL", D(10), None, False, False, 5),),
    )
    assert rules.check(BUY, MARKET, D(1), None, D(1)) == []
    assert _found(rules.check(BUY, LIMIT, D(1), D(1), None)) == [
        ("MIN_NOTIONAL", "notional", "notional 1 is below minNotional 10"),
    ]


def test_percent_price_by_side(rules: SymbolRules) -> None:
    assert _found(rules.check(BUY, LIMIT, D("1"), D("500.01"), D("100"))) == [
        ("PERCENT_PRICE_BY_SIDE", "price", "BUY price 500.01 is above 500 (5 x average 100)"),
    ]
    assert _found(rules.check(SELL, LIMIT, D("1"), D("19.99"), D("100"))) == [
        ("PERCENT_PRICE_BY_SIDE", "price", "SELL price 19.99 is below 20.0 (0.2 x average 100)"),
    ]
    assert rules.check(SELL, LIMIT, D("1"), D("19.99"), None) == []


def test_status_type_and_parameters(rules: SymbolRules) -> None:
    halted = SymbolRules.from_exchange_info(btcusdt(status="HALT", orderTypes=["LIMIT"]))
    assert _found(halted.check(BUY, MARKET, D("0.001"), None, D("60000"))) == [
        ("STATUS", "status", "BTCUSDT is HALT, not TRADING"),
        ("ORDER_TYPES", "type", "BTCUSDT does not allow MARKET"),
    ]
    assert _found(rules.check(BUY, LIMIT, None, None, None)) == [
        ("PARAMETERS", "quantity", "a quantity is required"),
        ("PARAMETERS", "price", "LIMIT needs a price"),
    ]
    assert _found(rules.check(BUY, OrderType.STOP_LOSS, D("0.001"), None, D("60000"))) == [
        ("PARAMETERS", "stopPrice", "STOP_LOSS needs a stop price"),
    ]
    assert [v.message for v in rules.check(BUY, LIMIT, D("0.001"), D(10), None, quote_qty=D(5))][
        :2
    ] == ["only MARKET orders take a quote qty", "give a quantity or a quote qty, not both"]
    assert [v.field for v in rules.check(BUY, LIMIT, D(-1), D(0), None)][:2] == [
        "quantity",
        "price",
    ]
    assert _found(rules.check(BUY, MARKET, None, None, None, quote_qty=D(0)))[0] == (
        "PARAMETERS",
        "quoteOrderQty",
        "quote qty 0 must be positive",
    )
    no_quote = SymbolRules.from_exchange_info(btcusdt(quoteOrderQtyMarketAllowed=False))
    assert _found(no_quote.check(BUY, MARKET, None, None, None, quote_qty=D(10))) == [
        ("PARAMETERS", "quoteOrderQty", "BTCUSDT does not allow MARKET orders by quote quantity"),
    ]


def test_open_order_limits(rules: SymbolRules) -> None:
    assert _found(rules.check(BUY, LIMIT, D("0.001"), D("60000"), None, open_orders=200)) == [
        ("MAX_NUM_ORDERS", "openOrders", "200 open orders on BTCUSDT; the limit is 200"),
    ]
    found = rules.check(
        SELL,
        OrderType.STOP_LOSS,
        D("0.001"),
        None,
        D("60000"),
        stop_price=D("59000"),
        open_orders=10,
        open_algo_orders=5,
    )
    assert _found(found) == [
        (
            "MAX_NUM_ALGO_ORDERS",
            "openOrders",
            "5 open stop/take-profit orders on BTCUSDT; the limit is 5",
        ),
    ]
    assert (found[0].value, found[0].limit) == (D(5), D(5))
    # LIMIT orders do not count against the algo limit.
    assert rules.check(BUY, LIMIT, D("0.001"), D("60000"), None, open_algo_orders=5) == []
