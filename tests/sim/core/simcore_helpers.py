"""Helpers for the pure core tests: a small exact book, an exchange wrapper, recorded events.

The `ex` exchange replays a flat SOLUSDT at 100.00 and BNBUSDT at 500.00 (they move only by
set_price), with three synthetic levels a side worth 1000 USDT, +50% per level. SOLUSDT's book
is then exactly (tick 0.01, step 0.001):

    asks 100.01 x 9.999, 100.02 x 14.997, 100.03 x 19.994
    bids  99.99 x 10.001, 99.98 x 15.003, 99.97 x 20.006

(quantity = 1000 * (1 + 0.5 k) / price, rounded down to the step).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.sim.core.clock import ManualClock
from engine.sim.core.config import ExchangeConfig
from engine.sim.core.errors import SimError
from engine.sim.core.exchange import Exchange

D = Decimal
SEED = 7


def small_book_config(**overrides: Any) -> ExchangeConfig:
    settings: dict[str, Any] = {
        "book_levels": 3,
        "level_notional": D(1000),
        "replay": {"SOLUSDT": [D("100.00")], "BNBUSDT": [D("500.00")]},
    }
    settings.update(overrides)
    return ExchangeConfig(**settings)


class Recorder:
    """User events of one account and market events, in delivery order."""

    def __init__(self) -> None:
        self.user: list[dict[str, Any]] = []
        self.market: list[tuple[str, dict[str, Any]]] = []

    def types(self) -> list[str]:
        return [e["e"] for e in self.user]

    def reports(self, order_id: int | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.user
            if e["e"] == "executionReport" and (order_id is None or e["i"] == order_id)
        ]

    def clear(self) -> None:
        self.user.clear()
        self.market.clear()


class Env:
    """An exchange with helpers for placing orders and reading balances."""

    def __init__(self, clock: ManualClock, exchange: Exchange) -> None:
        self.clock = clock
        self.ex = exchange

    def account(self, **balances: str) -> int:
        return self.ex.create_account({asset: D(v) for asset, v in balances.items()})

    def order(self, account_id: int, **params: str) -> dict[str, Any]:
        return self.ex.new_order(account_id, {"symbol": "SOLUSDT", **params})

    def limit(
        self, account_id: int, side: str, qty: str, price: str, **extra: str
    ) -> dict[str, Any]:
        return self.order(
            account_id,
            side=side,
            type="LIMIT",
            timeInForce=extra.pop("timeInForce", "GTC"),
            quantity=qty,
            price=price,
            **extra,
        )

    def market(self, account_id: int, side: str, qty: str, **extra: str) -> dict[str, Any]:
        return self.order(account_id, side=side, type="MARKET", quantity=qty, **extra)

    def balance(self, account_id: int, asset: str) -> tuple[str, str]:
        found = self.ex.oracle(account_id)["balances"][account_id].get(asset)
        if found is None:
            return ("0.00000000", "0.00000000")
        return found["free"], found["locked"]

    def status(self, account_id: int, order_id: int, symbol: str = "SOLUSDT") -> str:
        found: str = self.ex.get_order(account_id, {"symbol": symbol, "orderId": str(order_id)})[
            "status"
        ]
        return found

    def record(self, account_id: int) -> Recorder:
        recorder = Recorder()
        self.ex.add_user_listener(account_id, recorder.user.append)
        self.ex.add_market_listener(lambda s, p: recorder.market.append((s, p)))
        return recorder

    def conserved(self) -> None:
        check_conservation(self.ex)


def check_conservation(exchange: Exchange) -> None:
    """Every asset: balances + fees + the synthetic book's net == funded; none negative."""
    oracle = exchange.oracle()
    totals: dict[str, Decimal] = {}
    for balances in oracle["balances"].values():
        for asset, amounts in balances.items():
            free, locked = D(amounts["free"]), D(amounts["locked"])
            assert free >= 0, (asset, free)
            assert locked >= 0, (asset, locked)
            totals[asset] = totals.get(asset, D(0)) + free + locked
    for ledger in ("fees", "house"):
        for asset, amount in oracle[ledger].items():
            totals[asset] = totals.get(asset, D(0)) + D(amount)
    funded = {a: D(x) for a, x in oracle["funded"].items()}
    assert {a: x for a, x in totals.items() if x} == {a: x for a, x in funded.items() if x}


def raises(code: int, msg: str, action: Callable[[], Any]) -> SimError:
    with pytest.raises(SimError) as caught:
        action()
    assert (caught.value.code, caught.value.msg) == (code, msg)
    return caught.value


# -- random scenarios -------------------------------------------------------------------------

Op = tuple[Any, ...]
SCENARIO_SYMBOLS = ("BTCUSDT", "SOLUSDT")
_QTY = {"BTCUSDT": D("0.001"), "SOLUSDT": D("0.1")}
_TICK = D("0.01")


def random_ops(rng: Any, count: int, accounts: int = 2) -> list[Op]:
    """A reproducible list of operations for `apply_op` (rng: a random.Random)."""
    ops: list[Op] = []
    for _ in range(count):
        kind = rng.choice(
            ["limit", "limit", "limit", "market", "stop", "oco", "cancel", "step", "advance"]
        )
        account = rng.randrange(accounts)
        symbol = rng.choice(SCENARIO_SYMBOLS)
        side = rng.choice(["BUY", "SELL"])
        ops.append((kind, account, symbol, side, rng.randint(1, 40), rng.randint(-30, 30)))
    return ops


def apply_op(exchange: Exchange, clock: ManualClock, accounts: list[int], op: Op) -> Any:
    """Run one scenario operation; returns the response or the (code, msg) of a rejection."""
    kind, index, symbol, side, size, offset = op
    account = accounts[index % len(accounts)]
    price_now = D(exchange.ticker_price({"symbol": symbol})["price"])  # type: ignore[index]
    qty = str(_QTY[symbol] * size)
    price = str(max(_TICK, price_now + price_now * D(offset) / 1000).quantize(_TICK))
    base = {"symbol": symbol, "side": side}
    try:
        if kind == "limit":
            tif = ("GTC", "GTC", "IOC", "FOK")[size % 4]
            stp = ("EXPIRE_MAKER", "NONE", "EXPIRE_TAKER", "DECREMENT")[offset % 4]
            return exchange.new_order(
                account,
                {
                    **base,
                    "type": "LIMIT",
                    "timeInForce": tif,
                    "quantity": qty,
                    "price": price,
                    "selfTradePreventionMode": stp,
                },
            )
        if kind == "market":
            if size % 3 == 0:
                quote = str((price_now * _QTY[symbol] * size).quantize(_TICK))
                return exchange.new_order(
                    account, {**base, "type": "MARKET", "quoteOrderQty": quote}
                )
            return exchange.new_order(account, {**base, "type": "MARKET", "quantity": qty})
        if kind == "stop":
            order_type = ("STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT")[size % 3]
            params = {**base, "type": order_type, "quantity": qty}
            if size % 2:
                params["trailingDelta"] = str(10 + abs(offset) * 5)
            else:
                params["stopPrice"] = price
            if order_type == "STOP_LOSS_LIMIT":
                params.update(price=price, timeInForce="GTC")
                params.setdefault("stopPrice", price)
            return exchange.new_order(account, params)
        if kind == "oco":
            above = (price_now * D("1.01")).quantize(_TICK)
            below = (price_now * D("0.99")).quantize(_TICK)
            params = {**base, "quantity": qty}
            if side == "SELL":
                params.update(
                    aboveType="LIMIT_MAKER",
                    abovePrice=str(above),
                    belowType="STOP_LOSS",
                    belowStopPrice=str(below),
                )
            else:
                params.update(
                    aboveType="STOP_LOSS",
                    aboveStopPrice=str(above),
                    belowType="LIMIT_MAKER",
                    belowPrice=str(below),
                )
            return exchange.new_oco(account, params)
        if kind == "cancel":
            open_orders = exchange.open_orders(account, {"symbol": symbol})
            if not open_orders:
                return exchange.cancel_open_orders(account, {"symbol": symbol})
            target = open_orders[size % len(open_orders)]
            return exchange.cancel_order(
                account, {"symbol": symbol, "orderId": str(target["orderId"])}
            )
        if kind == "step":
            return exchange.step_market(1 + size % 3)
        clock.advance(size * 100)
        return exchange.advance_to(clock.now_ms())
    except SimError as error:
        return (error.code, error.msg)


def scenario_exchange(seed: int = SEED) -> tuple[Exchange, ManualClock, list[int]]:
    """Default symbols on the seeded random walk, two funded accounts (one burning BNB)."""
    clock = ManualClock()
    exchange = Exchange(clock=clock, seed=seed)
    funds = {"USDT": D(50_000), "BTC": D("0.5"), "SOL": D(200), "BNB": D(5)}
    accounts = [exchange.create_account(dict(funds)) for _ in range(2)]
    exchange.set_bnb_burn(accounts[1], True)
    return exchange, clock, accounts
