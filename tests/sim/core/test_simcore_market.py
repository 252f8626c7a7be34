"""Market data: exchangeInfo, tickers, avgPrice, the price path, CSV replay, stream payloads."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from simcore_helpers import SEED, Env, raises

from engine.sim.core.clock import ManualClock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.exchange import Exchange
from engine.sim.core.market import parse_price_csv


def test_exchange_info_for_btcusdt(env: Env) -> None:
    info = env.ex.exchange_info({"symbol": "BTCUSDT"})
    assert (info["timezone"], info["serverTime"], info["exchangeFilters"]) == (
        "UTC",
        env.clock.now_ms(),
        [],
    )
    [btc] = info["symbols"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }
    assert filters["LOT_SIZE"] == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00001000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    }
    assert filters["NOTIONAL"] == {
        "filterType": "NOTIONAL",
        "minNotional": "5.00000000",
        "applyMinToMarket": True,
        "maxNotional": "9000000.00000000",
        "applyMaxToMarket": False,
        "avgPriceMins": 5,
    }
    assert filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierUp"] == "5"
    assert filters["MAX_NUM_ORDERS"] == {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}
    assert filters["MAX_NUM_ALGO_ORDERS"]["maxNumAlgoOrders"] == 5
    assert filters["TRAILING_DELTA"]["minTrailingAboveDelta"] == 10
    assert set(filters) == {
        "PRICE_FILTER", "LOT_SIZE", "ICEBERG_PARTS", "MARKET_LOT_SIZE", "TRAILING_DELTA",
        "PERCENT_PRICE_BY_SIDE", "NOTIONAL", "MAX_NUM_ORDERS", "MAX_NUM_ORDER_LISTS",
        "MAX_NUM_ALGO_ORDERS",
    }  # fmt: skip
    assert {k: v for k, v in btc.items() if k != "filters"} == {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "baseAssetPrecision": 8,
        "quoteAsset": "USDT",
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
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
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": [
            "NONE",
            "EXPIRE_TAKER",
            "EXPIRE_MAKER",
            "EXPIRE_BOTH",
            "DECREMENT",
        ],
    }


def test_symbol_selection_and_errors(env: Env) -> None:
    assert [s["symbol"] for s in env.ex.exchange_info({})["symbols"]] == [
        "BTCUSDT",
        "ETHUSDT",
        "BNBUSDT",
        "SOLUSDT",
    ]
    chosen = env.ex.exchange_info({"symbols": '["SOLUSDT","BTCUSDT"]'})["symbols"]
    assert [s["symbol"] for s in chosen] == ["SOLUSDT", "BTCUSDT"]
    raises(-1121, "Invalid symbol.", lambda: env.ex.exchange_info({"symbol": "btcusdt"}))
    raises(-1121, "Invalid symbol.", lambda: env.ex.ticker_price({"symbols": '["SOLUSDT","X"]'}))
    raises(
        -1130,
        "Data sent for parameter 'symbols' is not valid.",
        lambda: env.ex.book_ticker({"symbols": "SOLUSDT"}),
    )
    raises(
        -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        lambda: env.ex.avg_price({}),
    )


def test_tickers(env: Env) -> None:
    assert env.ex.ticker_price({"symbol": "SOLUSDT"}) == {
        "symbol": "SOLUSDT",
        "price": "100.00000000",
    }
    prices = env.ex.ticker_price({})
    assert isinstance(prices, list)
    assert prices[0] == {"symbol": "BTCUSDT", "price": "95000.00000000"}
    assert env.ex.book_ticker({"symbols": '["SOLUSDT"]'}) == [
        {
            "symbol": "SOLUSDT",
            "bidPrice": "99.99000000",
            "bidQty": "10.00100000",
            "askPrice": "100.01000000",
            "askQty": "9.99900000",
        }
    ]
    assert env.ex.avg_price({"symbol": "SOLUSDT"}) == {
        "mins": 5,
        "price": "100.00000000",
        "closeTime": env.clock.now_ms(),
    }


def test_avg_price_is_the_mean_of_the_last_five_minutes(env: Env) -> None:
    env.clock.advance(60_000)
    env.ex.set_price("SOLUSDT", D("110"))
    assert env.ex.avg_price({"symbol": "SOLUSDT"})["price"] == "105.00000000"
    env.clock.advance(6 * 60_000)
    env.ex.set_price("SOLUSDT", D("120"))
    assert env.ex.avg_price({"symbol": "SOLUSDT"})["price"] == "120.00000000"


def test_the_seeded_path_moves_on_tick_and_is_deterministic() -> None:
    def path(seed: int) -> list[str]:
        clock = ManualClock()
        exchange = Exchange(clock=clock, seed=seed)
        prices = []
        for _ in range(30):
            clock.advance(1000)
            exchange.advance_to(clock.now_ms())
            price = exchange.ticker_price({"symbol": "BTCUSDT"})
            assert isinstance(price, dict)
            prices.append(price["price"])
        return prices

    first = path(SEED)
    assert first == path(SEED)
    assert first != path(SEED + 1)
    assert len(set(first)) > 20  # it moves
    assert all(D(p) % D("0.01") == 0 for p in first)
    assert all(D(90_000) < D(p) < D(100_000) for p in first)


def test_advance_to_steps_once_per_step_ms() -> None:
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=SEED)
    events: list[str] = []
    exchange.add_market_listener(lambda stream, payload: events.append(stream))
    clock.advance(2500)
    exchange.advance_to(clock.now_ms())
    after_two = exchange.to_state()["markets"]["BTCUSDT"]["raw"]
    exchange.advance_to(clock.now_ms())  # no time passed since: nothing moves
    assert exchange.to_state()["markets"]["BTCUSDT"]["raw"] == after_two
    twin = Exchange(clock=ManualClock(), seed=SEED)
    twin.step_market(2)
    assert twin.to_state()["markets"]["BTCUSDT"]["raw"] == after_two
    assert events.count("btcusdt@bookTicker") == 1  # one snapshot per call


def test_csv_replay() -> None:
    text = "timestamp_ms,price\n1700000000000,101.5\n1700000001000,102.25\n\n# pause\n103\n"
    assert parse_price_csv(text) == [D("101.5"), D("102.25"), D("103")]
    assert parse_price_csv("50\n51.5\n") == [D("50"), D("51.5")]
    with pytest.raises(ValueError, match="not a price"):
        parse_price_csv("1\nabc\n")
    clock = ManualClock()
    config = ExchangeConfig(replay={"ETHUSDT": parse_price_csv(text)})
    exchange = Exchange(clock=clock, seed=SEED, config=config)
    seen = []
    for _ in range(4):
        seen.append(exchange.ticker_price({"symbol": "ETHUSDT"}))
        exchange.step_market()
    assert [s["price"] for s in seen if isinstance(s, dict)] == [
        "101.50000000",
        "102.25000000",
        "103.00000000",
        "103.00000000",
    ]


def test_market_stream_payloads(env: Env) -> None:
    alice = env.account(USDT="10000")
    recorder = env.record(alice)
    env.market(alice, "BUY", "1")
    streams = [s for s, _ in recorder.market]
    assert streams == [
        "solusdt@trade",
        "solusdt@bookTicker",
        "solusdt@miniTicker",
        "solusdt@ticker",
    ]
    payloads = dict(recorder.market)
    now = env.clock.now_ms()
    assert payloads["solusdt@trade"] == {
        "e": "trade",
        "E": now,
        "s": "SOLUSDT",
        "t": 1,
        "p": "100.01000000",
        "q": "1.00000000",
        "T": now,
        "m": False,
        "M": True,
    }
    book = payloads["solusdt@bookTicker"]
    assert {k: v for k, v in book.items() if k != "u"} == {
        "s": "SOLUSDT",
        "b": "99.99000000",
        "B": "10.00100000",
        "a": "100.01000000",
        "A": "8.99900000",
    }
    assert payloads["solusdt@miniTicker"] == {
        "e": "24hrMiniTicker",
        "E": now,
        "s": "SOLUSDT",
        "c": "100.01000000",
        "o": "100.00000000",
        "h": "100.01000000",
        "l": "100.00000000",
        "v": "1.00000000",
        "q": "100.01000000",
    }
    ticker = payloads["solusdt@ticker"]
    assert (ticker["e"], ticker["c"], ticker["p"], ticker["P"], ticker["n"]) == (
        "24hrTicker",
        "100.01000000",
        "0.01000000",
        "0.010",
        1,
    )
    assert (ticker["b"], ticker["a"], ticker["F"], ticker["L"]) == (
        "99.99000000",
        "100.01000000",
        1,
        1,
    )
    recorder.clear()
    env.ex.set_price("SOLUSDT", D("101"))
    assert [s for s, _ in recorder.market] == [
        "solusdt@bookTicker",
        "solusdt@miniTicker",
        "solusdt@ticker",
    ]
    assert recorder.market[0][1]["u"] > book["u"]


def test_configure_validates_and_applies(env: Env) -> None:
    env.ex.configure({"fee_rate": "0.002", "book_levels": 2})
    assert env.ex.config_json()["fee_rate"] == "0.002"
    with pytest.raises(ValueError, match="unknown setting"):
        env.ex.configure({"nonsense": 1})
    with pytest.raises(ValueError, match="book_levels"):
        env.ex.configure({"book_levels": 0})
    assert env.ex.config.book_levels == 2
    env.ex.step_market()
    alice = env.account(USDT="10000")
    response = env.market(alice, "BUY", "30")
    assert (response["status"], response["executedQty"]) == ("EXPIRED", "24.99600000")
    assert response["fills"][0]["commission"] == "0.01999800"
