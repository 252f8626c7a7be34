"""The emergency stop without an engine: the same phases straight over REST with the venue
adapter, for when the engine is dead or wedged.

The halt is journaled when the journal is free (a dead engine restarts HALTED); a wedged engine
still holds it, which is said. Cancels are the exchange's cancel-all per symbol in parallel,
verified with its open orders until none remain or the bounds run out. Flattening sells each
asset's free balance on `<asset><quote>` at market, floored to the filters; amounts too small
for them are dust. There is no live ledger here, so the engine's risk checks do not run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.config import Settings
from engine.core.rules import SymbolRules
from engine.journal import Journal, JournalError
from engine.risk import TradingStateMachine
from engine.service.emergency import EmergencyBounds, gather_limited
from engine.service.gate import TRADING_KEY
from engine.service.process import account_name
from engine.service.profile import credentials_from, journal_path
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.endpoints import endpoints_for
from engine.venue.errors import Rejected, VenueError
from engine.venue.timing import SystemClock

NOTHING_OPEN_CODE = -2011


@dataclass
class RestStopResult:
    """What is left after the REST emergency stop; `ok` only when nothing is."""

    orders_left: dict[str, list[str]] = field(default_factory=dict)
    positions_left: dict[str, str] = field(default_factory=dict)
    sold: dict[str, str] = field(default_factory=dict)
    dust: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.orders_left and not self.positions_left


class RestEmergencyStop:
    """One run of the REST emergency stop; `say` prints each phase."""

    def __init__(
        self,
        settings: Settings,
        say: Callable[[str], None],
        bounds: EmergencyBounds | None = None,
    ) -> None:
        self._settings = settings
        self._say = say
        self._bounds = bounds or EmergencyBounds()
        self._venue = BinanceVenue(
            endpoints_for(settings.mode, settings.sim_url),
            credentials_from(settings),
            clock=SystemClock(),
            options=VenueOptions(),
        )

    async def run(self, *, flatten: bool, reason: str) -> RestStopResult:
        await self._journal_halt(reason)
        venue, result = self._venue, RestStopResult()
        await venue.start()
        try:
            started = time.monotonic()
            listed = await venue.open_orders()
            symbols = {report.symbol for report in listed}
            self._say(f"cancel: {len(listed)} open order(s) on {_names(symbols)}")
            result.orders_left = await self._cancel_and_verify(symbols, started)
            if flatten:
                await self._flatten(result)
                result.orders_left = await self._cancel_and_verify(
                    set(result.orders_left) | set(result.sold), started
                )
                await self._check_positions(result)
            self._say(
                f"check: {sum(map(len, result.orders_left.values()))} order(s) left, "
                f"{len(result.positions_left)} position(s) left"
            )
        finally:
            await venue.close()
        return result

    async def _journal_halt(self, reason: str) -> None:
        """HALTED in the journal, so that the engine starts HALTED; merged into the stored
        record (today's counters ride in it)."""
        settings = self._settings
        path = journal_path(settings, account_name(settings))
        if not path.exists():
            self._say("halt: no journal for this profile; nothing to mark")
            return
        try:
            journal = await Journal.open(
                path, mode=settings.mode.value, account=account_name(settings)
            )
        except JournalError as error:
            self._say(f"halt: not journaled ({error}); the engine may trade when it recovers")
            return
        try:
            loaded = await journal.load(recent_terminal_orders=0)
            record = dict(loaded.state.get(TRADING_KEY) or {})
            machine = TradingStateMachine.from_json(record)
            machine.halt(reason, SystemClock().now())
            record.update(machine.to_json())
            await journal.set_state(TRADING_KEY, record)
            await journal.flush()
            self._say(f"halt: trading HALTED in the journal ({machine.reason})")
        finally:
            await journal.close()

    async def _cancel_and_verify(self, symbols: set[str], started: float) -> dict[str, list[str]]:
        bounds, pending = self._bounds, set(symbols)
        left: dict[str, list[str]] = {}
        for attempt in range(1, bounds.attempts + 1):
            if not pending:
                return {}
            await gather_limited(bounds.parallel, pending, self._cancel)
            found = await gather_limited(bounds.parallel, sorted(pending), self._open_ids)
            left = {s: ids for s, ids in zip(sorted(pending), found, strict=True) if ids}
            total = sum(len(ids) for ids in left.values())
            self._say(f"verify ({attempt}): {total} open order(s) left on {_names(left)}")
            pending = set(left)
            if not pending or time.monotonic() - started > bounds.time_limit_s:
                break
            await asyncio.sleep(bounds.pause_s * attempt)
        return left

    async def _cancel(self, symbol: str) -> None:
        try:
            await self._venue.cancel_all(symbol)
        except Rejected as error:
            if error.code != NOTHING_OPEN_CODE:
                self._say(f"cancel {symbol}: {error}")
        except VenueError as error:
            self._say(f"cancel {symbol}: {error}")

    async def _open_ids(self, symbol: str) -> list[str]:
        try:
            reports = await self._venue.open_orders(symbol)
        except VenueError as error:
            return [f"unverified: {error}"]
        return sorted(report.order_client_id for report in reports)

    async def _sellable(self) -> dict[str, tuple[SymbolRules, Decimal, Decimal]]:
        """Per symbol: its rules, the free balance and the price, for every held asset."""
        venue, quote = self._venue, self._settings.risk.quote_asset
        info, account, prices = await asyncio.gather(
            venue.exchange_info(), venue.account(), venue.ticker_prices()
        )
        found: dict[str, tuple[SymbolRules, Decimal, Decimal]] = {}
        for balance in account.balances:
            symbol = f"{balance.asset}{quote}"
            rules = info.symbols.get(symbol)
            if balance.asset == quote or balance.free <= 0 or rules is None:
                continue
            if rules.status == "TRADING" and symbol in prices:
                found[symbol] = (rules, balance.free, prices[symbol])
        return found

    async def _flatten(self, result: RestStopResult) -> None:
        held = await self._sellable()
        self._say(f"flatten: selling {_names(held)}")
        stamp = int(time.time())
        for number, (symbol, (rules, free, price)) in enumerate(sorted(held.items()), 1):
            qty = _floored(rules, free, price)
            if qty <= 0:
                result.dust[symbol] = str(free)
                continue
            try:
                response = await self._venue.create_order(
                    symbol=symbol,
                    side="SELL",
                    order_type="MARKET",
                    client_order_id=f"panic-{stamp}-{number}",
                    quantity=qty,
                )
            except VenueError as error:
                result.sold[symbol] = f"not sold: {error}"
            else:
                result.sold[symbol] = f"{qty} {response.status.state.value}"
            self._say(f"flatten {symbol}: {result.sold[symbol]}")

    async def _check_positions(self, result: RestStopResult) -> None:
        for symbol, (rules, free, price) in sorted((await self._sellable()).items()):
            if _floored(rules, free, price) > 0:
                result.positions_left[symbol] = f"{free} {rules.base_asset} still sellable"
            else:
                result.dust[symbol] = str(free)


def _floored(rules: SymbolRules, free: Decimal, price: Decimal) -> Decimal:
    """`free` floored to the market step; zero under the minimum quantity or notional."""
    qty = rules.floor_qty(free, market=True)
    lots = (rules.lot_size, rules.market_lot_size)
    if qty <= 0 or any(lot is not None and qty < lot.min_qty for lot in lots):
        return Decimal(0)
    if any(qty * price < f.min_notional for f in rules.notional_filters):
        return Decimal(0)
    return qty


def _names(symbols: Iterable[str]) -> str:
    return ", ".join(sorted(symbols)) or "nothing"
