"""Rebuilding from the journal without a venue: journal records round-trip, positions replay to
exactly what the live ledger held, and in-flight intents come back as orders to settle."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.core.intents import OrderIntent
from engine.core.order import Order
from engine.core.reports import FillReport
from engine.core.rules import SymbolRules
from engine.core.types import OrderState, OrderType, Origin, Side, TimeInForce
from engine.journal import FillRow, IntentRow, JournalSnapshot, OrderRow
from engine.ledger import Ledger
from engine.orders import OrderBook
from engine.service.args import UsageError, order_request
from engine.service.records import (
    Adoption,
    fill_from_payload,
    fill_payload,
    intent_from_payload,
    intent_payload,
    order_from_payload,
    order_payload,
)
from engine.service.restore import replay_positions, restore_adoption, restore_book
from engine.sim.core.symbols import default_symbols

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _rules() -> dict[str, SymbolRules]:
    specs = [SymbolRules.from_exchange_info(spec.info()) for spec in default_symbols()]
    return {rules.symbol: rules for rules in specs}


def _fill(
    trade_id: int,
    side: Side,
    qty: str,
    price: str,
    fee: str,
    fee_asset: str,
    symbol: str = "BTCUSDT",
) -> FillReport:
    return FillReport(
        symbol=symbol,
        trade_id=trade_id,
        order_id=trade_id * 10,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        quote_qty=Decimal(qty) * Decimal(price),
        commission=Decimal(fee),
        commission_asset=fee_asset,
        time=T0 + timedelta(seconds=trade_id),
    )


def test_positions_replay_to_what_the_live_ledger_held() -> None:
    fills = [
        (_fill(1, Side.BUY, "0.5", "90000", "0.0005", "BTC"), None),
        (_fill(2, Side.SELL, "0.4995", "91000", "45.45", "USDT"), None),  # flat again
        (_fill(3, Side.BUY, "0.1", "92000", "0.01", "BNB"), Decimal("650")),
        (_fill(4, Side.SELL, "0.05", "93000", "0.004", "BNB"), Decimal("655")),
    ]
    # Adoptions: BNB before any fill, BTC (a deposit) once the desk's BTC was flat.
    adoptions = [
        Adoption("BNBUSDT", Decimal("3"), None, T0, after_fills=0),
        Adoption("BTCUSDT", Decimal("0.2"), Decimal("18000"), T0, after_fills=2),
    ]
    live = Ledger(_rules())
    rows: list[FillRow] = []
    for index, (fill, fee_price) in enumerate(fills):
        for adoption in adoptions:
            if adoption.after_fills == index:
                restore_adoption(live, adoption)
        live.apply_fill(fill, fee_price=fee_price)
        payload = fill_payload(fill, f"sd-t-{index + 1}", fee_price)
        rows.append(FillRow(fill.symbol, fill.trade_id, f"sd-t-{index + 1}", fill.time, payload))
    replayed = Ledger(_rules())
    replay_positions(replayed, rows, adoptions)
    assert replayed.positions() == live.positions()
    btc = replayed.position("BTCUSDT")
    bnb = replayed.position("BNBUSDT")
    assert btc is not None and bnb is not None
    assert btc.qty == Decimal("0.25")  # 0.2 adopted + 0.1 bought - 0.05 sold
    assert bnb.qty == Decimal("3") - Decimal("0.014")  # fees paid in BNB
    # 18000 adopted + 9200 bought; a sixth of the 0.3 BTC left at the sell (12-decimal share).
    assert btc.cost_basis == Decimal("27200") - Decimal("4533.333333333333")


def test_records_round_trip() -> None:
    order = Order(
        client_order_id="sd-t-9",
        symbol="BTCUSDT",
        origin=Origin.DESK,
        state=OrderState.PARTIALLY_FILLED,
        last_known_state=OrderState.PARTIALLY_FILLED,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("1.00000"),
        price=Decimal("95000.01"),
        time_in_force=TimeInForce.GTC,
        order_id=7,
        cum_qty=Decimal("0.2"),
        cum_quote=Decimal("19000.002"),
        filled_qty=Decimal("0.2"),
        filled_quote=Decimal("19000.002"),
        fill_count=1,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=1),
    )
    assert order_from_payload(order_payload(order)) == order
    intent = OrderIntent(
        "sd-t-9", "BTCUSDT", Side.SELL, OrderType.MARKET, None, T0, quote_qty=Decimal("100")
    )
    assert intent_from_payload(intent_payload(intent)) == intent
    fill = _fill(5, Side.BUY, "0.1", "92000", "0.0001", "BTC")
    journaled = fill_from_payload(fill_payload(fill, "sd-t-9", Decimal("650.5")))
    assert (journaled.client_order_id, journaled.fee_price) == ("sd-t-9", Decimal("650.5"))
    assert journaled.fill == dataclasses.replace(fill, client_order_id="sd-t-9")


def test_intents_without_an_order_row_come_back_in_flight() -> None:
    intent = OrderIntent("sd-t-1", "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01"), T0)
    sent = Order(
        client_order_id="sd-t-2",
        symbol="BTCUSDT",
        origin=Origin.DESK,
        state=OrderState.NEW,
        last_known_state=OrderState.NEW,
        order_id=11,
        created_at=T0,
    )
    loaded = JournalSnapshot(
        mode="sim",
        account="t",
        created_at=T0,
        instance=2,
        open_orders=(OrderRow("sd-t-2", "BTCUSDT", "NEW", False, T0, order_payload(sent)),),
        recent_terminal_orders=(),
        unsettled_intents=(
            IntentRow("sd-t-1", T0, "BTCUSDT", intent_payload(intent)),
            IntentRow("sd-t-2", T0, "BTCUSDT", {}),
        ),
        fills=(),
        balances={},
        counters={},
        state={},
        last_event_seq=0,
    )
    book = OrderBook(is_ours=lambda cid: cid.startswith("sd-"))
    restored = restore_book(book, loaded)
    assert restored.in_flight == ("sd-t-1",)  # sd-t-2 has an exchange order id: it exists
    order = book.get("sd-t-1")
    assert order is not None and order.state is OrderState.PENDING_NEW
    assert book.get("sd-t-2") == sent


def test_order_arguments_are_checked() -> None:
    request = order_request(
        {"symbol": "btcusdt", "side": "sell", "type": "limit", "quantity": "1", "price": "2"}
    )
    assert (request.symbol, request.side, request.time_in_force) == (
        "BTCUSDT",
        Side.SELL,
        TimeInForce.GTC,
    )
    bad = [
        ({"side": "buy", "quantity": "1"}, "missing symbol"),
        ({"symbol": "BTCUSDT", "side": "hold", "quantity": "1"}, "side must be buy or sell"),
        ({"symbol": "BTCUSDT", "side": "buy"}, "give quantity or quote_quantity"),
        ({"symbol": "BTCUSDT", "side": "buy", "quantity": "-1"}, "must be a positive number"),
        ({"symbol": "BTCUSDT", "side": "buy", "quantity": 0.5}, "quantity must be a decimal"),
        ({"symbol": "BTCUSDT", "side": "buy", "type": "limit", "quantity": "1"}, "need a price"),
        ({"symbol": "BTCUSDT", "side": "buy", "quantity": "1", "price": "5"}, "take no price"),
        (
            {"symbol": "BTCUSDT", "side": "buy", "type": "limit", "quote_quantity": "5"},
            "for market orders only",
        ),
    ]
    for args, expected in bad:
        try:
            order_request(args)
        except UsageError as error:
            assert expected in str(error), (args, str(error))
        else:
            raise AssertionError(f"{args} was accepted")


def test_an_order_row_behind_its_journaled_fills_is_brought_level() -> None:
    stale = Order(
        client_order_id="sd-t-3",
        symbol="BTCUSDT",
        origin=Origin.DESK,
        state=OrderState.NEW,
        last_known_state=OrderState.NEW,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("1"),
        order_id=30,
        created_at=T0,
    )
    fill = _fill(3, Side.BUY, "0.3", "92000", "0.0003", "BTC")
    row = FillRow("BTCUSDT", 3, "sd-t-3", fill.time, fill_payload(fill, "sd-t-3", None))
    loaded = JournalSnapshot(
        mode="sim",
        account="t",
        created_at=T0,
        instance=3,
        open_orders=(OrderRow("sd-t-3", "BTCUSDT", "NEW", False, T0, order_payload(stale)),),
        recent_terminal_orders=(),
        unsettled_intents=(),
        fills=(row,),
        balances={},
        counters={},
        state={},
        last_event_seq=0,
    )
    book = OrderBook(is_ours=lambda cid: cid.startswith("sd-"))
    restore_book(book, loaded)
    order = book.get("sd-t-3")
    assert order is not None
    assert (order.filled_qty, order.cum_qty, order.fill_count) == (
        Decimal("0.3"),
        Decimal("0.3"),
        1,
    )
    assert order.filled_quote == Decimal("27600.0")
    assert book.has_seen_fill("BTCUSDT", 3)
