"""The operator of a swarm run: random actions drawn from the seed, sized within the balances.

Orders of every kind the desk sends (market by quantity or quote amount, limit GTC/IOC/FOK,
limit-maker, some crossing, some too small or too large on purpose), cancels (open, final or
unknown ids), cancel-all, price moves that cross resting orders, reconcile requests, restarts on
the same journal, halt/arm, the emergency stop, orders placed on the account by another program,
snapshots, pauses, and the profile's stream and clock faults. Commands may run beside each
other (up to three); restarts, halts and the emergency stop wait for the others first.
"""

from __future__ import annotations

import asyncio
import random
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from engine.risk import TradingState
from engine.service.api import CommandName, CommandResult
from engine.sim.core.errors import SimError

if TYPE_CHECKING:
    from swarm_run import SwarmRun

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
CENT = Decimal("0.01")
MAX_CONCURRENT = 3


def _money(value: Decimal, step: str = "0.000001") -> str:
    return str(value.quantize(Decimal(step), rounding=ROUND_DOWN))


class Workload:
    """Draws and performs one action at a time; remembers the client ids it has seen."""

    def __init__(self, run: SwarmRun, rng: random.Random) -> None:
        self._run = run
        self._rng = rng
        self.cids: list[str] = []
        self._outside = 0
        profile = run.faults.profile
        self._weights: dict[str, int] = {
            "market_buy": 10,
            "market_sell": 7,
            "limit_buy": 10,
            "limit_sell": 7,
            "maker_buy": 5,
            "maker_sell": 4,
            "cancel": 9,
            "cancel_all": 2,
            "price_move": 10,
            "reconcile": 2,
            "restart": 2,
            "halt_or_arm": 2,
            "emergency": 1,
            "external": 2,
            "snapshot": 2,
            "pause": 5,
            "stall": profile.stall_weight,
            "disconnect": profile.disconnect_weight,
            "clock_jump": profile.clock_jump_weight,
            "clog": profile.clog_weight,
            "disk_full": profile.disk_full_weight,
        }
        self._names = [name for name, weight in self._weights.items() if weight]
        self._cumulative = [self._weights[name] for name in self._names]

    def opening_balances(self) -> dict[str, Decimal]:
        rng = self._rng
        balances = {"USDT": Decimal(rng.choice((2_000, 20_000, 200_000)))}
        if rng.random() < 0.5:
            balances["BTC"] = Decimal("0.05") * rng.randint(1, 10)
        if rng.random() < 0.5:
            balances["ETH"] = Decimal("0.5") * rng.randint(1, 10)
        if rng.random() < 0.3:
            balances["BNB"] = Decimal(rng.randint(1, 20))
        return balances

    def observe(self, result: CommandResult) -> None:
        cid = result.data.get("client_order_id")
        if isinstance(cid, str) and cid not in self.cids:
            self.cids.append(cid)

    async def step(self, index: int) -> None:
        name = self._rng.choices(self._names, weights=self._cumulative)[0]
        await getattr(self, f"_{name}")()
        await asyncio.sleep(self._rng.uniform(0, 0.5))  # the operator's think time

    # -- what the operator sees ----------------------------------------------------------------

    def _price(self, symbol: str) -> Decimal:
        ticker = self._run.core.ticker_price({"symbol": symbol})
        assert isinstance(ticker, dict)
        return Decimal(ticker["price"])

    def _free(self, asset: str) -> Decimal:
        body = self._run.core.account(self._run.account_id, {})
        for row in body["balances"]:
            if row["asset"] == asset:
                return Decimal(row["free"])
        return Decimal(0)

    def _order(self, args: dict[str, Any]) -> None:
        run = self._run
        wait = run.running >= MAX_CONCURRENT or self._rng.random() < 0.7
        run.command(CommandName.SUBMIT_ORDER, args, wait=wait)

    def _notional(self) -> Decimal:
        """Mostly a slice of the free quote; sometimes below the minimum or above the balance."""
        rng = self._rng
        roll = rng.random()
        if roll < 0.05:
            return Decimal("3")  # under MIN_NOTIONAL: refused before sending
        if roll < 0.08:
            return self._free("USDT") * 2  # more than there is
        return max(Decimal(6), self._free("USDT") * Decimal(str(rng.uniform(0.002, 0.15))))

    def _sell_qty(self, symbol: str) -> Decimal:
        held = self._free(symbol.removesuffix("USDT"))
        if held <= 0:
            return Decimal("0.01")  # nothing to sell: refused
        return held * Decimal(str(self._rng.uniform(0.1, 1.0)))

    def _symbol(self) -> str:
        return self._rng.choice(SYMBOLS)

    def _tif(self) -> str:
        return self._rng.choice(("GTC",) * 6 + ("IOC", "FOK"))

    # -- actions -------------------------------------------------------------------------------

    async def _market_buy(self) -> None:
        symbol = self._symbol()
        notional = self._notional()
        args: dict[str, Any] = {"symbol": symbol, "side": "buy", "type": "market"}
        if self._rng.random() < 0.5:
            args["quote_quantity"] = _money(notional, "0.01")
        else:
            args["quantity"] = _money(notional / self._price(symbol))
        self._order(args)

    async def _market_sell(self) -> None:
        symbol = self._symbol()
        qty = self._sell_qty(symbol)
        self._order({"symbol": symbol, "side": "sell", "type": "market", "quantity": _money(qty)})

    async def _limit_buy(self) -> None:
        symbol = self._symbol()
        price = self._price(symbol) * Decimal(str(1 + self._rng.uniform(-0.03, 0.005)))
        qty = self._notional() / price
        self._order(
            {
                "symbol": symbol,
                "side": "buy",
                "type": "limit",
                "price": _money(price, "0.01"),
                "quantity": _money(qty),
                "time_in_force": self._tif(),
            }
        )

    async def _limit_sell(self) -> None:
        symbol = self._symbol()
        price = self._price(symbol) * Decimal(str(1 + self._rng.uniform(-0.005, 0.03)))
        self._order(
            {
                "symbol": symbol,
                "side": "sell",
                "type": "limit",
                "price": _money(price, "0.01"),
                "quantity": _money(self._sell_qty(symbol)),
                "time_in_force": self._tif(),
            }
        )

    async def _maker_buy(self) -> None:
        symbol = self._symbol()
        away = -0.002 if self._rng.random() < 0.1 else self._rng.uniform(0.0005, 0.03)
        price = self._price(symbol) * Decimal(str(1 - away))
        self._order(
            {
                "symbol": symbol,
                "side": "buy",
                "type": "limit_maker",
                "price": _money(price, "0.01"),
                "quantity": _money(self._notional() / price),
            }
        )

    async def _maker_sell(self) -> None:
        symbol = self._symbol()
        away = -0.002 if self._rng.random() < 0.1 else self._rng.uniform(0.0005, 0.03)
        price = self._price(symbol) * Decimal(str(1 + away))
        self._order(
            {
                "symbol": symbol,
                "side": "sell",
                "type": "limit_maker",
                "price": _money(price, "0.01"),
                "quantity": _money(self._sell_qty(symbol)),
            }
        )

    async def _cancel(self) -> None:
        rng = self._rng
        if not self.cids or rng.random() < 0.03:
            cid = "sd-notours"
        elif rng.random() < 0.8:
            cid = rng.choice(self.cids[-8:])
        else:
            cid = rng.choice(self.cids)
        run = self._run
        wait = run.running >= MAX_CONCURRENT or rng.random() < 0.6
        run.command(CommandName.CANCEL_ORDER, {"client_order_id": cid}, wait=wait)

    async def _cancel_all(self) -> None:
        symbol = self._rng.choice((*SYMBOLS, None))
        self._run.command(
            CommandName.CANCEL_ALL_ORDERS, {} if symbol is None else {"symbol": symbol}
        )

    async def _price_move(self) -> None:
        """Move a market: usually just through a resting order's limit, so it fills."""
        run, rng = self._run, self._rng
        resting = [
            order
            for order in run.core.oracle(run.account_id)["orders"]
            if order["status"] in ("NEW", "PARTIALLY_FILLED") and Decimal(order["price"]) > 0
        ]
        if resting and rng.random() < 0.6:
            order = rng.choice(resting)
            symbol, limit = order["symbol"], Decimal(order["price"])
            beyond = Decimal(str(rng.uniform(0.0001, 0.004)))
            price = limit * (1 - beyond) if order["side"] == "BUY" else limit * (1 + beyond)
        else:
            symbol = self._symbol()
            price = self._price(symbol) * Decimal(str(1 + rng.uniform(-0.015, 0.015)))
        price = max(CENT, price.quantize(CENT))
        run.note(f"price {symbol} -> {price}")
        run.core.set_price(symbol, price)

    async def _reconcile(self) -> None:
        self._run.command(CommandName.RECONCILE, {}, wait=self._rng.random() < 0.5)

    async def _restart(self) -> None:
        self._run.note("restart")
        await self._run.restart()

    async def _halt_or_arm(self) -> None:
        run = self._run
        await run.drain()
        engine = run.engine
        assert engine is not None
        halted = engine.parts.gate.state is TradingState.HALTED
        if halted and self._rng.random() < 0.8:
            run.command(CommandName.ARM, {"reason": "swarm operator arms"})
        else:
            run.command(CommandName.HALT, {"reason": "swarm operator halts"})
        await run.drain()

    async def _emergency(self) -> None:
        run = self._run
        await run.drain()
        run.command(CommandName.EMERGENCY_STOP, {"flatten": False, "reason": "swarm"})
        await run.drain()

    async def _external(self) -> None:
        """Another program trades on the account: the desk must adopt what it sees."""
        run, rng = self._run, self._rng
        self._outside += 1
        symbol = self._symbol()
        price = self._price(symbol)
        params = {
            "symbol": symbol,
            "newClientOrderId": f"ext-{self._outside}",
            "newOrderRespType": "FULL",
        }
        if rng.random() < 0.5:
            limit = price * Decimal(str(1 - rng.uniform(0.005, 0.02)))
            qty = Decimal(20) / limit
            params |= {
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": _money(limit, "0.01"),
                "quantity": _money(qty, "0.001"),
            }
        else:
            params |= {"side": "BUY", "type": "MARKET", "quoteOrderQty": "25"}
        try:
            run.core.new_order(run.account_id, params)
        except SimError as error:
            run.note(f"external {params['newClientOrderId']} refused: {error.code}")
            return
        run.note(f"external {params['newClientOrderId']} {params['type']} {symbol}")

    async def _snapshot(self) -> None:
        engine = self._run.engine
        assert engine is not None
        await engine.snapshot()

    async def _pause(self) -> None:
        await asyncio.sleep(self._rng.choice((0.05, 0.5, 2.0, 8.0)) * self._rng.random())

    async def _stall(self) -> None:
        user = self._run.port.user if self._run.port is not None else None
        if user is not None:
            self._run.note("user stream stalls")
            user.stall()

    async def _disconnect(self) -> None:
        user = self._run.port.user if self._run.port is not None else None
        if user is not None:
            self._run.note("user stream drops")
            user.disconnect()

    async def _clock_jump(self) -> None:
        jump = round(self._rng.uniform(0.2, 5.0), 3)
        self._run.note(f"clock jumps {jump} s")
        self._run.loop.advance(jump)

    async def _clog(self) -> None:
        """FoundationDB's swizzle-clog: REST and the user stream clogged, freed in random order."""
        run, rng = self._run, self._rng
        now = run.loop.time()
        rest_s, stream_s = round(rng.uniform(0.5, 8.0), 3), round(rng.uniform(0.5, 8.0), 3)
        run.note(f"clog: REST for {rest_s} s, user stream for {stream_s} s")
        run.faults.clog(now + rest_s)
        user = run.port.user if run.port is not None else None
        if user is not None:
            user.stall()
            run.loop.call_at(now + stream_s, user.release)

    async def _disk_full(self) -> None:
        """The journal's disk fills up: the engine must halt and send nothing until restarted."""
        self._run.note("the journal's disk is full")
        self._run.faults.count("disk_full")
        self._run.disk.fill()
