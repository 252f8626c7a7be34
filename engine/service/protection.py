"""The protection manager: stop-loss, take-profit, OCO and trailing stops resting on the exchange.

It plans with `engine.protection`, places the legs with the same discipline as every order
(intents journaled before a byte goes out, answers sorted by the venue taxonomy), follows them
through the order book as user stream reports and reconciliation fold in, arms protection when
an entry fills (auto SL/TP), moves engine-managed trailing stops on marks, and keeps its records
in the journal's state table so a restart restores them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from engine.core.types import Side
from engine.protection import (
    PlanRefusal,
    ProtectionPlan,
    ProtectionRequest,
    ProtectionSettings,
    TrailPolicy,
    next_trail_stop,
    plan_protection,
)
from engine.protection.records import EntryWatch, Protection, ProtectionStatus, status_of
from engine.service.api import CommandResult, Outcome
from engine.service.args import UsageError, amount, symbol_arg
from engine.service.events import EngineAlarm
from engine.service.parts import Parts
from engine.service.payloads import decimal_text
from engine.service.protection_orders import ProtectiveOrders, RiskChoke
from engine.venue.errors import VenueError
from engine.venue.marketdata import Mark

log = logging.getLogger(__name__)

STATE_KEY = "protection"
ENTRY_PROTECTION_ARGS = ("stop_loss", "take_profit", "trailing_delta_bips")
HUNDRED = Decimal(100)


@dataclass
class _Book:
    by_symbol: dict[str, Protection] = field(default_factory=dict)
    entries: dict[str, EntryWatch] = field(default_factory=dict)


class ProtectionManager:
    """Runs SetProtection / ClearProtection and keeps every protection in step with its orders.

    `observe()` is called after every user stream event and every reconciliation; `on_mark()`
    on every market mark. Both are synchronous and cheap; exchange work is spawned as tasks.
    """

    def __init__(
        self,
        parts: Parts,
        settings: ProtectionSettings,
        settle: Callable[[str], None],
        risk: RiskChoke | None = None,
    ) -> None:
        self._parts = parts
        self._settings = settings
        self._orders = ProtectiveOrders(parts, settle, risk)
        self._book = _Book()
        self._busy: set[str] = set()  # symbols with exchange work under way

    # -- restart -------------------------------------------------------------------------------

    async def restore(self) -> None:
        """Read the records back from the journal (after the start-up reconciliation)."""
        snapshot = await self._parts.journal.load(recent_terminal_orders=0, fill_symbols=())
        raw = snapshot.state.get(STATE_KEY) or {}
        for item in (raw.get("protections") or {}).values():
            protection = Protection.from_json(item)
            self._book.by_symbol[protection.symbol] = protection
        for cid, item in (raw.get("entries") or {}).items():
            self._book.entries[cid] = EntryWatch.from_json(item)
        self.observe()

    def _save(self) -> None:
        value = {
            "protections": {s: p.to_json() for s, p in sorted(self._book.by_symbol.items())},
            "entries": {cid: e.to_json() for cid, e in sorted(self._book.entries.items())},
        }
        future = self._parts.journal.set_state(STATE_KEY, value)
        future.add_done_callback(_log_failure)

    # -- commands ------------------------------------------------------------------------------

    async def set(self, args: Mapping[str, Any]) -> CommandResult:
        """SetProtection: symbol, stop_loss, take_profit, trailing_delta_bips or
        trailing_percent, quantity (default: the position)."""
        try:
            wanted = self._parse(args)
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        if wanted.symbol in self._busy:
            return CommandResult(Outcome.REFUSED, f"protection of {wanted.symbol} is changing")
        self._busy.add(wanted.symbol)
        try:
            return await self._replace(wanted)
        finally:
            self._busy.discard(wanted.symbol)

    async def clear(self, args: Mapping[str, Any]) -> CommandResult:
        """ClearProtection: cancel the symbol's protective orders and forget the protection."""
        try:
            symbol = symbol_arg(args)
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        assert symbol is not None
        if symbol in self._busy:
            return CommandResult(Outcome.REFUSED, f"protection of {symbol} is changing; retry")
        current = self._book.by_symbol.get(symbol)
        if current is None or not current.working:
            return CommandResult(Outcome.OK, f"no working protection on {symbol}")
        self._busy.add(symbol)  # its legs' cancel reports must not read as "ended elsewhere"
        try:
            await self._orders.cancel(
                current.symbol, current.order_ids, current.list_client_order_id
            )
        except VenueError as error:
            return CommandResult(Outcome.VENUE, f"protection of {symbol} not cleared: {error}")
        finally:
            self._busy.discard(symbol)
        self._book.by_symbol[symbol] = replace(current, status=ProtectionStatus.CLEARED)
        self._save()
        return CommandResult(Outcome.OK, f"protection of {symbol} cleared")

    async def submit_entry(
        self,
        args: Mapping[str, Any],
        submit: Callable[[Mapping[str, Any]], Awaitable[CommandResult]],
    ) -> CommandResult:
        """SubmitOrder with optional stop_loss / take_profit: the entry goes out as usual and
        its fill arms protection (the configured automatic levels when none are given)."""
        try:
            stop_loss, take_profit = amount(args, "stop_loss"), amount(args, "take_profit")
            delta = _bips(args)
            symbol = symbol_arg(args)
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        buy = str(args.get("side") or "").upper() == Side.BUY.value
        asked = stop_loss is not None or take_profit is not None or delta is not None
        if asked and not buy:
            return CommandResult(Outcome.USAGE, "stop_loss, take_profit, trailing protect a BUY")
        if stop_loss is not None and delta is not None:
            return CommandResult(Outcome.USAGE, "give stop_loss or trailing_delta_bips, not both")
        entry = {k: v for k, v in args.items() if k not in ENTRY_PROTECTION_ARGS}
        result = await submit(entry)
        cid = result.data.get("client_order_id")
        wanted = asked or self._settings.auto_enabled
        if (
            buy
            and wanted
            and isinstance(cid, str)
            and symbol is not None
            and result.outcome in (Outcome.OK, Outcome.UNKNOWN)
            and not result.data.get("dry_run")
        ):
            self.watch_entry(cid, EntryWatch(symbol, stop_loss, take_profit, delta))
        return result

    def watch_entry(self, client_order_id: str, entry: EntryWatch) -> None:
        """Arm protection when this entry fills (SubmitOrder with stop_loss / take_profit)."""
        self._book.entries[client_order_id] = entry
        self._save()
        self.observe()

    def auto_levels(self, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
        """The configured automatic SL/TP around an entry price, when enabled."""
        s = self._settings
        if not s.auto_enabled:
            return None, None
        sl = None if s.auto_stop_loss_pct is None else price * (1 - s.auto_stop_loss_pct / HUNDRED)
        tp = (
            None
            if s.auto_take_profit_pct is None
            else price * (1 + s.auto_take_profit_pct / HUNDRED)
        )
        return sl, tp

    def _parse(self, args: Mapping[str, Any]) -> Protection:
        symbol = symbol_arg(args)
        assert symbol is not None
        if symbol not in self._parts.rules:
            raise UsageError(f"unknown symbol {symbol}")
        delta = _bips(args)
        trailing_percent = amount(args, "trailing_percent")
        if delta is not None and trailing_percent is not None:
            raise UsageError("give trailing_delta_bips or trailing_percent, not both")
        stop_loss = amount(args, "stop_loss")
        if trailing_percent is not None and stop_loss is not None:
            raise UsageError("an engine-managed trailing stop sets its own stop-loss")
        quantity = amount(args, "quantity")
        if quantity is None:
            position = self._parts.ledger.position(symbol)
            quantity = Decimal(0) if position is None else position.qty
        return Protection(
            symbol=symbol,
            quantity=quantity,
            stop_loss=stop_loss,
            take_profit=amount(args, "take_profit"),
            trailing_delta_bips=delta,
            trailing_percent=trailing_percent,
        )

    # -- placing -------------------------------------------------------------------------------

    async def _replace(self, wanted: Protection) -> CommandResult:
        """Cancel the symbol's working protection (its balance backs the new one), then place."""
        symbol = wanted.symbol
        current = self._book.by_symbol.get(symbol)
        canceled = current is not None and current.working
        if current is not None and canceled:
            try:
                await self._orders.cancel(symbol, current.order_ids, current.list_client_order_id)
            except VenueError as error:
                return CommandResult(
                    Outcome.VENUE, f"the current protection of {symbol} was not canceled: {error}"
                )
            self._book.by_symbol[symbol] = replace(current, status=ProtectionStatus.CLEARED)
        last = await self._orders.last_price(symbol)
        if last is None:
            return CommandResult(Outcome.REFUSED, f"no price for {symbol}: protection not placed")
        base = self._parts.rules[symbol].base_asset
        if canceled or self._parts.ledger.balances.free(base) < wanted.quantity:
            # The stream may still carry the lock of the canceled legs or not yet the entry's
            # fill; the account read is newer than both, so risk sees what the venue will.
            await self._orders.refresh_balances()
        if wanted.trailing_percent is not None:
            policy = self._policy(wanted.trailing_percent)
            high = max(wanted.high or last, last)
            wanted = replace(
                wanted,
                high=high,
                stop_loss=policy.stop_for(high, self._parts.rules[symbol].tick_size),
            )
        return await self._place(wanted, last)

    async def _place(self, wanted: Protection, last: Decimal) -> CommandResult:
        symbol = wanted.symbol
        request = ProtectionRequest(
            symbol,
            wanted.quantity,
            wanted.stop_loss,
            wanted.take_profit,
            wanted.trailing_delta_bips,
        )
        try:
            plan = plan_protection(
                request,
                self._parts.rules[symbol],
                last,
                stop_limit_offset_pct=self._settings.stop_limit_offset_pct,
            )
        except PlanRefusal as error:
            return CommandResult(Outcome.REFUSED, str(error), {"last_price": str(last)})
        placed = await self._orders.place(plan, last)
        data = {"plan": _plan_json(plan), **placed.data}
        if placed.outcome not in (Outcome.OK, Outcome.UNKNOWN):
            return CommandResult(placed.outcome, placed.message, data)
        stop, target = plan.leg("stop_loss"), plan.leg("take_profit")
        protection = replace(
            wanted,
            quantity=plan.quantity,
            stop_loss=None if stop is None else stop.stop_price,
            take_profit=None if target is None else target.stop_price,
            status=ProtectionStatus.ACTIVE,
            order_ids=placed.order_ids,
            list_client_order_id=placed.list_client_order_id,
        )
        self._book.by_symbol[symbol] = protection
        self._save()
        self.observe()
        current = self._book.by_symbol[symbol]
        return CommandResult(
            placed.outcome,
            f"protection of {symbol}: {placed.message}",
            {**data, "protection": current.to_json()},
        )

    def _policy(self, percent: Decimal) -> TrailPolicy:
        s = self._settings
        return TrailPolicy(percent, s.trailing_step_pct, s.trailing_min_interval_s)

    # -- following the orders ------------------------------------------------------------------

    def observe(self) -> None:
        """Bring every working protection in step with its orders, and arm filled entries."""
        changed = False
        for symbol, protection in list(self._book.by_symbol.items()):
            if not protection.working or symbol in self._busy:
                continue
            status = status_of([self._parts.find_order(cid) for cid in protection.order_ids])
            if status is not None and status != protection.status:
                self._book.by_symbol[symbol] = replace(protection, status=status)
                changed = True
                if status == ProtectionStatus.ENDED:
                    self._alarm(f"{symbol}'s protective orders ended unfilled: it is unprotected")
        for cid, entry in list(self._book.entries.items()):
            changed = self._arm_entry(cid, entry) or changed
        if changed:
            self._save()

    def _arm_entry(self, cid: str, entry: EntryWatch) -> bool:
        """Arm (or re-arm with the larger quantity) once the entry has filled more than armed:
        at its first fill, and again when it ends; so a partly filled entry is protected."""
        order = self._parts.find_order(cid)
        if order is None or entry.symbol in self._busy:
            return False
        if order.is_terminal and order.filled_qty <= entry.armed_qty:
            del self._book.entries[cid]
            return True
        if order.filled_qty <= 0 or (entry.armed_qty > 0 and not order.is_terminal):
            return False
        price = order.average_fill_price
        sl, tp, delta = entry.stop_loss, entry.take_profit, entry.trailing_delta_bips
        if sl is None and tp is None and delta is None and price is not None:
            sl, tp = self.auto_levels(price)
        if sl is None and tp is None and delta is None:
            del self._book.entries[cid]
            return True
        entry.armed_qty = order.filled_qty
        if order.is_terminal:
            del self._book.entries[cid]
        position = self._parts.ledger.position(entry.symbol)
        qty = order.filled_qty if position is None else min(position.qty, order.filled_qty)
        wanted = Protection(entry.symbol, qty, sl, tp, trailing_delta_bips=delta)
        self._spawn(entry.symbol, self._replace(wanted), f"protect-entry-{cid}")
        return True

    def _spawn(self, symbol: str, work: Coroutine[Any, Any, CommandResult], name: str) -> None:
        """Run exchange work for `symbol` as a kept task; the symbol is busy until it ends."""
        self._busy.add(symbol)

        async def run() -> None:
            try:
                result = await work
                if not result.ok:
                    log.warning("protection of %s: %s", symbol, result.message)
                    current = self._book.by_symbol.get(symbol)
                    if current is not None and not current.working:
                        self._book.by_symbol[symbol] = replace(
                            current, status=ProtectionStatus.FAILED, message=result.message
                        )
                        self._save()
                        self._alarm(f"{symbol} is unprotected: {result.message}")
            finally:
                self._busy.discard(symbol)
                self.observe()

        self._parts.tasks.spawn(run(), name)

    def _alarm(self, message: str) -> None:
        self._parts.pipeline.emit(EngineAlarm("protection", message[:300]))

    # -- engine-managed trailing ---------------------------------------------------------------

    def on_mark(self, mark: Mark) -> None:
        price = mark.price
        protection = self._book.by_symbol.get(mark.symbol)
        if price is None or protection is None:
            return
        self.trail(mark.symbol, price)

    def trail(self, symbol: str, price: Decimal) -> None:
        """Fold one price into the symbol's engine-managed trailing stop; move it if due."""
        protection = self._book.by_symbol.get(symbol)
        if (
            protection is None
            or protection.status != ProtectionStatus.ACTIVE
            or protection.trailing_percent is None
            or protection.stop_loss is None
            or symbol in self._busy
        ):
            return
        decision = next_trail_stop(
            self._policy(protection.trailing_percent),
            high=protection.high or price,
            current_stop=protection.stop_loss,
            mark=price,
            tick=self._parts.rules[symbol].tick_size,
            last_move_at=protection.last_move_at,
            now=self._parts.clock.now(),
        )
        if decision.high != protection.high:
            self._book.by_symbol[symbol] = protection = replace(protection, high=decision.high)
        if decision.move_to is None:
            return
        moved = replace(
            protection, last_move_at=self._parts.clock.now(), moves=protection.moves + 1
        )
        self._book.by_symbol[symbol] = moved
        self._save()
        self._spawn(symbol, self._replace(moved), f"trail-{symbol}")

    # -- state out -----------------------------------------------------------------------------

    def get(self, symbol: str) -> Protection | None:
        return self._book.by_symbol.get(symbol)

    def annotate(self, snapshot: dict[str, Any]) -> None:
        """Add each position's protection (None when it has none) to a snapshot."""
        for position in snapshot.get("positions") or ():
            found = self._book.by_symbol.get(position.get("symbol"))
            position["protection"] = None if found is None else found.to_json()


def _plan_json(plan: ProtectionPlan) -> dict[str, Any]:
    return {
        "symbol": plan.symbol,
        "side": Side.SELL.value,
        "quantity": decimal_text(plan.quantity),
        "oco": plan.is_oco,
        "adjusted": list(plan.adjusted),
        "legs": [
            {
                "role": leg.role,
                "type": leg.type.value,
                "price": decimal_text(leg.price),
                "stop_price": decimal_text(leg.stop_price),
                "trailing_delta": leg.trailing_delta,
            }
            for leg in plan.legs
        ],
    }


def _bips(args: Mapping[str, Any]) -> int | None:
    """`trailing_delta_bips`: a whole number of BIPS (100 = 1%), or None."""
    raw = args.get("trailing_delta_bips")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise UsageError("trailing_delta_bips must be a whole number of BIPS")
    try:
        return int(raw)
    except ValueError:
        raise UsageError("trailing_delta_bips must be a whole number of BIPS") from None


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("journaling protection state failed: %s", future.exception())
