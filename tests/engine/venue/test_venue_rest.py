"""REST round trips through the venue against the embedded exchange, judged by its oracle."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.core.types import OrderState, OrderType, Side, TimeInForce
from engine.sim.runner import DEMO_BALANCES
from engine.venue.binance import BinanceVenue, OcoLeg
from engine.venue.errors import Rejected

SYMBOL = "BTCUSDT"
LOW = Decimal("50000.00")  # far below the market (95000): a buy there rests


def oracle_order(oracle: dict[str, Any], client_order_id: str) -> dict[str, Any]:
    found = [o for o in oracle["orders"] if o["clientOrderId"] == client_order_id]
    assert len(found) == 1, found
    return found[0]


def oracle_balances(oracle: dict[str, Any], account: int) -> dict[str, tuple[Decimal, Decimal]]:
    raw = oracle["balances"][str(account)]
    return {asset: (Decimal(v["free"]), Decimal(v["locked"])) for asset, v in raw.items()}


async def test_a_resting_limit_order_round_trip(venue: BinanceVenue, sim: Any) -> None:
    placed = await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id="sd-t1-1",
        quantity=Decimal("0.00100"),
        price=LOW,
        time_in_force=TimeInForce.GTC,
    )
    status = placed.status
    assert (status.symbol, status.client_order_id, status.state, status.side, status.type) == (
        SYMBOL,
        "sd-t1-1",
        OrderState.NEW,
        Side.BUY,
        OrderType.LIMIT,
    )
    assert (status.qty, status.price, status.cum_qty, status.cum_quote) == (
        Decimal("0.001"),
        Decimal("50000"),
        Decimal(0),
        Decimal(0),
    )
    assert placed.fills == ()
    truth = oracle_order(await sim.admin.oracle(), "sd-t1-1")
    assert (Decimal(truth["origQty"]), Decimal(truth["price"]), truth["orderId"]) == (
        status.qty,
        status.price,
        status.order_id,
    )

    fetched = await venue.get_order(SYMBOL, "sd-t1-1")
    assert (fetched.order_id, fetched.state, fetched.qty, fetched.price) == (
        status.order_id,
        OrderState.NEW,
        status.qty,
        status.price,
    )
    assert [o.client_order_id for o in await venue.open_orders(SYMBOL)] == ["sd-t1-1"]
    assert [o.client_order_id for o in await venue.open_orders()] == ["sd-t1-1"]

    canceled = await venue.cancel_order(SYMBOL, "sd-t1-1", cancel_client_order_id="sd-t1-c1")
    assert (
        canceled.state,
        canceled.client_order_id,
        canceled.orig_client_order_id,
        canceled.order_client_id,
    ) == (OrderState.CANCELED, "sd-t1-c1", "sd-t1-1", "sd-t1-1")
    assert await venue.open_orders(SYMBOL) == []
    assert oracle_order(await sim.admin.oracle(), "sd-t1-1")["status"] == "CANCELED"
    history = await venue.all_orders(SYMBOL)
    assert [(o.client_order_id, o.state) for o in history] == [("sd-t1-1", OrderState.CANCELED)]


async def test_a_market_order_fills_and_trades_and_balances_match_the_oracle(
    venue: BinanceVenue, sim: Any
) -> None:
    placed = await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.MARKET,
        client_order_id="sd-t2-1",
        quantity=Decimal("0.01000"),
    )
    assert placed.status.state is OrderState.FILLED
    assert placed.status.cum_qty == Decimal("0.01")
    oracle = await sim.admin.oracle()
    truth_trades = sorted(
        (t for t in oracle["trades"] if t["orderId"] == placed.status.order_id),
        key=lambda t: t["id"],
    )
    assert truth_trades, "the oracle knows the order's trades"
    expected = [
        (
            t["id"],
            Decimal(t["qty"]),
            Decimal(t["price"]),
            Decimal(t["commission"]),
            t["commissionAsset"],
        )
        for t in truth_trades
    ]
    assert [
        (f.trade_id, f.qty, f.price, f.commission, f.commission_asset) for f in placed.fills
    ] == expected
    assert sum(f.qty for f in placed.fills) == placed.status.cum_qty
    assert sum(f.qty * f.price for f in placed.fills) == placed.status.cum_quote

    trades = await venue.my_trades(SYMBOL, order_id=placed.status.order_id)
    assert [(f.trade_id, f.qty, f.price, f.commission, f.commission_asset) for f in trades] == (
        expected
    )
    assert all(f.side is Side.BUY and f.is_maker is False for f in trades)
    assert [f.trade_id for f in await venue.my_trades(SYMBOL, from_id=expected[-1][0])] == [
        expected[-1][0]
    ]

    account = await venue.account()
    assert account.can_trade is True
    mine = {b.asset: (b.free, b.locked) for b in account.balances}
    truth = oracle_balances(oracle, sim.demo_account_id)
    assert {a: mine[a] for a in truth} == truth
    assert mine["BTC"][0] == DEMO_BALANCES["BTC"] + Decimal("0.01") - sum(
        f.commission for f in placed.fills if f.commission_asset == "BTC"
    )


async def test_rejections_carry_the_binance_code(venue: BinanceVenue) -> None:
    with pytest.raises(Rejected) as unknown_order:
        await venue.get_order(SYMBOL, "sd-never")
    assert (unknown_order.value.code, unknown_order.value.http_status) == (-2013, 400)
    with pytest.raises(Rejected) as cancel_unknown:
        await venue.cancel_order(SYMBOL, "sd-never")
    assert cancel_unknown.value.code == -2011
    with pytest.raises(Rejected) as filter_failure:
        await venue.create_order(
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            client_order_id="sd-t3-1",
            quantity=Decimal("0.00001"),
            price=LOW,
            time_in_force=TimeInForce.GTC,
        )
    assert filter_failure.value.code == -1013
    with pytest.raises(Rejected) as bad_symbol:
        await venue.open_orders("NOPEUSDT")
    assert bad_symbol.value.code == -1121
    with pytest.raises(Rejected) as balance:
        await venue.create_order(
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            client_order_id="sd-t3-2",
            quantity=Decimal("1.00000"),
            price=LOW,
            time_in_force=TimeInForce.GTC,
        )
    assert balance.value.code == -2010


async def test_invalid_inputs_never_leave_the_process(venue: BinanceVenue) -> None:
    with pytest.raises(ValueError, match="client order id"):
        await venue.create_order(
            symbol=SYMBOL,
            side="BUY",
            order_type="LIMIT",
            client_order_id="bad id/with:chars",
            quantity=Decimal(1),
            price=LOW,
            time_in_force="GTC",
        )
    with pytest.raises(ValueError, match="Decimal"):
        await venue.create_order(
            symbol=SYMBOL,
            side="BUY",
            order_type="LIMIT",
            client_order_id="sd-x",
            quantity=0.1,  # type: ignore[arg-type]
            price=LOW,
            time_in_force="GTC",
        )
    with pytest.raises(ValueError, match="symbol"):
        await venue.open_orders("btc/usdt")


async def test_decimal_strings_on_the_wire_are_fixed_point(venue: BinanceVenue, sim: Any) -> None:
    placed = await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id="sd-t4-1",
        quantity=Decimal("1E-3"),
        price=Decimal("5E+4"),
        time_in_force=TimeInForce.GTC,
    )
    assert (placed.status.qty, placed.status.price) == (Decimal("0.001"), Decimal(50000))


async def test_cancel_all_covers_orders_and_oco_legs(venue: BinanceVenue, sim: Any) -> None:
    await venue.create_order(
        symbol=SYMBOL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id="sd-t5-1",
        quantity=Decimal("0.001"),
        price=LOW,
        time_in_force=TimeInForce.GTC,
    )
    oco = await venue.create_oco(
        symbol=SYMBOL,
        side=Side.SELL,
        quantity=Decimal("0.01"),
        list_client_order_id="sd-t5-l",
        above=OcoLeg(OrderType.LIMIT_MAKER, "sd-t5-a", price=Decimal("120000.00")),
        below=OcoLeg(
            OrderType.STOP_LOSS_LIMIT,
            "sd-t5-b",
            price=Decimal("79000.00"),
            stop_price=Decimal("80000.00"),
            time_in_force=TimeInForce.GTC,
        ),
    )
    assert (oco.symbol, oco.list_client_order_id, oco.contingency_type) == (
        SYMBOL,
        "sd-t5-l",
        "OCO",
    )
    assert sorted(leg.status.client_order_id for leg in oco.legs) == ["sd-t5-a", "sd-t5-b"]
    truth = await sim.admin.oracle()
    assert oracle_order(truth, "sd-t5-a")["orderListId"] == oco.order_list_id
    canceled = await venue.cancel_all(SYMBOL)
    assert sorted((r.order_client_id, r.state) for r in canceled) == [
        ("sd-t5-1", OrderState.CANCELED),
        ("sd-t5-a", OrderState.CANCELED),
        ("sd-t5-b", OrderState.CANCELED),
    ]
    assert await venue.open_orders() == []


async def test_an_oco_is_cancelled_by_its_list_id(venue: BinanceVenue) -> None:
    await venue.create_oco(
        symbol=SYMBOL,
        side=Side.SELL,
        quantity=Decimal("0.01"),
        list_client_order_id="sd-t6-l",
        above=OcoLeg(OrderType.LIMIT_MAKER, "sd-t6-a", price=Decimal("120000.00")),
        below=OcoLeg(OrderType.STOP_LOSS, "sd-t6-b", stop_price=Decimal("80000.00")),
    )
    done = await venue.cancel_order_list(SYMBOL, "sd-t6-l")
    assert (done.list_client_order_id, done.list_order_status) == ("sd-t6-l", "ALL_DONE")
    assert sorted((leg.status.order_client_id, leg.status.state) for leg in done.legs) == [
        ("sd-t6-a", OrderState.CANCELED),
        ("sd-t6-b", OrderState.CANCELED),
    ]


async def test_exchange_info_prices_time_and_permissions(venue: BinanceVenue, sim: Any) -> None:
    info = await venue.exchange_info()
    btc = info.symbols[SYMBOL]
    assert (btc.base_asset, btc.quote_asset) == ("BTC", "USDT")
    assert info.weight_limit_per_minute() == 6000
    assert venue.budget.weight_limit_1m == 6000
    await sim.admin.set_price(SYMBOL, "96000.00")
    prices = await venue.ticker_prices(SYMBOL)
    assert prices == {SYMBOL: Decimal("96000.00")}
    assert SYMBOL in await venue.ticker_prices()
    books = await venue.book_tickers(SYMBOL)
    bid, ask = books[SYMBOL]
    assert bid < Decimal("96000.00") < ask or bid <= Decimal("96000.00") <= ask
    server = await venue.server_time()
    assert server.tzinfo is not None
    restrictions = await venue.api_restrictions()
    assert restrictions is not None
    assert restrictions.enable_spot_and_margin_trading is True
    assert restrictions.dangerous == ()


async def test_each_response_s_rate_headers_land_in_the_budget(venue: BinanceVenue) -> None:
    await venue.server_time()
    before = venue.budget.snapshot().used_weight_1m
    assert before is not None
    await venue.exchange_info()
    # The sim's windows are aligned to the epoch, like Binance's: a new minute may have begun.
    assert venue.budget.snapshot().used_weight_1m in (before + 20, 20)
    for n in (1, 2):
        await venue.create_order(
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            client_order_id=f"sd-t7-{n}",
            quantity=Decimal("0.001"),
            price=LOW,
            time_in_force=TimeInForce.GTC,
        )
        snap = venue.budget.snapshot()
        assert snap.order_count_1d == n
        assert snap.order_count_10s in (n, 1)
