"""The commands that place orders: SubmitOrder and ClosePosition.

A new order is checked and rounded toward safety locally, gets a fresh client order id, and its
intent is committed to the journal before a byte goes out (R1); a journal that cannot write
halts the engine and nothing is sent. Each venue answer is sorted by the taxonomy (R2):
accepted (its report and FULL fills are folded in; stream events that came first were applied
already), rejected, unknown (settled by query, never resent: R3), not sent (retried once with
the same id), rate limited (refused with the wait).

Every order then passes the risk choke point (`RiskGate.decide`): a refusal names the rule and
its numbers, and the result's `data["risk"]` always carries every check. `dry_run: true`
previews (nothing is journaled or sent); an order above the soft notional limit needs
`confirmed: true` (the CLI sets it once the operator said yes to the preview).

A BUY may give `size_from_stop` (its stop price) instead of a quantity: the quantity risks
`risk_per_trade` of the live equity between the entry (limit price, else the mark) and that stop
(`engine.risk.sizing`), then the order goes on exactly as if it had been given; `data["sizing"]`
shows the numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.core import failpoints
from engine.core.intents import OrderIntent
from engine.core.rules import QuantizedOrder, SymbolRules
from engine.core.types import OrderState, OrderType, Side
from engine.core.wire import MalformedPayload
from engine.journal import JournalError
from engine.risk import ProposedOrder, RiskDecision, Rule, SizingResult
from engine.risk.numbers import fmt
from engine.service.api import CommandResult, Outcome
from engine.service.args import OrderRequest, UsageError, order_request, symbol_arg
from engine.service.parts import Parts
from engine.service.payloads import decimal_text, order_json
from engine.service.records import intent_payload
from engine.service.riskgate import RiskGate
from engine.service.settle import Settler
from engine.venue.errors import AuthError, NotSent, RateLimited, Rejected, Unknown, VenueError

log = logging.getLogger(__name__)

FILTER_FAILURE_CODE = -1013


def id_counter_name(instance_tag: str) -> str:
    return f"client_order_id:{instance_tag}"


async def journal_intents(
    parts: Parts,
    intents: Sequence[OrderIntent],
    record_order: Callable[[ProposedOrder], None] | None,
    proposals: Sequence[ProposedOrder],
) -> str | None:
    """Commit `intents` before anything is sent (R1), in one transaction with the id counter
    and today's risk counts of `proposals` (`record_order`, the risk gate's): no restart can
    find an intent without its count, and the send waits for one commit, not two. When the
    journal fails, trading halts and the reason is returned (None: committed)."""
    counter = parts.journal.advance_counter(
        id_counter_name(parts.ids.instance_tag), parts.ids.next_counter
    )
    written = [
        parts.journal.record_intent(
            intent.client_order_id,
            symbol=intent.symbol,
            payload=intent_payload(intent),
            created_at=intent.created_at,
        )
        for intent in intents
    ]
    if record_order is not None:
        for proposed in proposals:
            record_order(proposed)
    try:
        for future in written:
            await future
        await counter
    except JournalError as error:
        for future in (*written, counter):  # they failed alike: mark every failure seen
            if future.done() and not future.cancelled():
                future.exception()
        noun = "intent" if len(intents) == 1 else "intents"
        reason = f"the {noun} could not be journaled, so nothing was sent: {error}"
        parts.halt(reason)
        return reason
    return None


class OrderCommands:
    """Runs the order commands against the started engine's parts."""

    def __init__(
        self,
        parts: Parts,
        settler: Settler,
        refresh_rules: Callable[[], Coroutine[Any, Any, None]],
        risk: RiskGate,
    ) -> None:
        self._parts = parts
        self._settler = settler
        self._refresh_rules = refresh_rules
        self._risk = risk

    # -- SubmitOrder and ClosePosition ---------------------------------------------------------

    async def submit(self, args: Mapping[str, Any]) -> CommandResult:
        try:
            request = order_request(args)
            confirmed, dry_run = flag(args, "confirmed"), flag(args, "dry_run")
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        if request.size_from_stop is None:
            return await self.place(request, confirmed=confirmed, dry_run=dry_run)
        sized = await self._sized(request)
        if isinstance(sized, CommandResult):
            return sized
        request, sizing = sized
        result = await self.place(request, confirmed=confirmed, dry_run=dry_run)
        return replace(result, data={**result.data, "sizing": sizing})

    async def _sized(
        self, request: OrderRequest
    ) -> CommandResult | tuple[OrderRequest, dict[str, Any]]:
        """The request with the quantity its stop gives, and the sizing's numbers; or why not."""
        stop = request.size_from_stop
        assert stop is not None
        rules = self._parts.rules.get(request.symbol)
        if rules is None:
            return CommandResult(Outcome.USAGE, f"unknown symbol {request.symbol}")
        mark = await self._reference_price(request.symbol)
        # The entry is the price the order would pay: its limit on the tick, else the mark.
        entry = None if request.price is None else rules.round_price(request.price, request.side)
        entry = entry if entry is not None else mark
        if entry is None:
            return CommandResult(
                Outcome.REFUSED, f"no price for {request.symbol}: cannot size from the stop"
            )
        market = request.type is OrderType.MARKET
        result, equity = await self._risk.size(rules, entry, stop, mark, market=market)
        sizing = _sizing_json(result, equity, self._risk.limits.risk_per_trade, entry, stop)
        if result.refusal is not None:
            message = f"refused by sizing: {result.refusal}"
            return CommandResult(Outcome.REFUSED, message, {"sizing": sizing})
        return replace(request, quantity=result.qty, size_from_stop=None), sizing

    async def close_position(self, args: Mapping[str, Any]) -> CommandResult:
        """Sell what can be sold of a position at market, floored to the filters."""
        try:
            symbol = symbol_arg(args)
        except UsageError as error:
            return CommandResult(Outcome.USAGE, str(error))
        assert symbol is not None
        # Closing is the operator's explicit act (the CLI and the desk confirm it first).
        return await self.sell_all(symbol)

    async def sell_all(self, symbol: str, *, flattening: bool = False) -> CommandResult:
        """Sell a position's sellable quantity at market (fee-aware: the free balance), floored
        to the filters, confirmed; `flattening` is the emergency stop's sale while HALTED."""
        parts = self._parts
        rules = parts.rules.get(symbol)
        if rules is None:
            return CommandResult(Outcome.USAGE, f"unknown symbol {symbol}")
        position = parts.ledger.position(symbol)
        if position is None or position.is_flat:
            return CommandResult(Outcome.REFUSED, f"no position in {symbol}")
        mark = await self._reference_price(symbol)
        if mark is None:
            return CommandResult(Outcome.REFUSED, f"no price for {symbol}: cannot size the sale")
        held = rules.floor_qty(position.qty, market=True)
        qty = min(parts.ledger.sellable_qty(symbol, mark), held)
        if qty <= 0:
            return CommandResult(
                Outcome.REFUSED,
                f"nothing sellable in {symbol}: {position.qty} {rules.base_asset} held, free "
                f"{parts.ledger.balances.free(rules.base_asset)}, below the symbol's minimum "
                "quantity or notional once floored to its step",
                {"qty": str(position.qty)},
            )
        request = OrderRequest(symbol, Side.SELL, OrderType.MARKET, None, qty, None, None)
        return await self.place(request, confirmed=True, flattening=flattening)

    async def place(
        self,
        request: OrderRequest,
        *,
        confirmed: bool = False,
        dry_run: bool = False,
        flattening: bool = False,
    ) -> CommandResult:
        """Check, journal and send one order; `confirmed` is the operator's yes above the soft
        notional limit (protection and flattening pass True), `dry_run` previews only, and
        `flattening` (the emergency stop's sells) is checked as if REDUCING while HALTED."""
        parts = self._parts
        blocked = parts.gate.new_orders_blocked(flattening=flattening)
        if blocked is not None and not dry_run:
            return CommandResult(Outcome.REFUSED, blocked)
        rules = parts.rules.get(request.symbol)
        if rules is None:
            return CommandResult(Outcome.USAGE, f"unknown symbol {request.symbol}")
        rounded = rules.quantize(request.side, request.type, request.quantity, request.price)
        data = _rounded_json(request, rounded)
        refusal, reference = await self._check(request, rules, rounded, data)
        if refusal is not None and not dry_run:
            return refusal
        proposed = ProposedOrder(
            request.symbol,
            request.side,
            request.type,
            qty=rounded.qty,
            quote_qty=request.quote_quantity,
            price=rounded.price,
            confirmed=confirmed,
        )
        decision = await self._risk.decide(proposed, reference, flattening=flattening)
        if dry_run or not decision.may_send:
            data["risk"] = decision.to_json()
            if dry_run:
                return _preview_result(refusal, blocked, decision, data)
            if not decision.allowed:
                return CommandResult(Outcome.REFUSED, f"refused by risk: {decision.refusal}", data)
            return CommandResult(Outcome.REFUSED, _confirmation_text(decision), data)
        # The checks are shown once the order is on its way: their text is not on its path.
        result = await self._journal_and_send(request, rounded, proposed, data, flattening)
        return replace(result, data={**result.data, "risk": decision.to_json()})

    async def _journal_and_send(
        self,
        request: OrderRequest,
        rounded: QuantizedOrder,
        proposed: ProposedOrder,
        data: dict[str, Any],
        flattening: bool,
    ) -> CommandResult:
        """Journal the intent of an order risk allowed, then send it (R1)."""
        parts = self._parts
        # The price lookups may have taken a while.
        blocked = parts.gate.new_orders_blocked(flattening=flattening)
        if blocked is not None:
            return CommandResult(Outcome.REFUSED, blocked, data)
        intent = OrderIntent(
            client_order_id=parts.ids.next(),
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            qty=rounded.qty,
            created_at=parts.clock.now(),
            price=rounded.price,
            quote_qty=request.quote_quantity,
            time_in_force=request.time_in_force,
        )
        data["client_order_id"] = intent.client_order_id
        not_journaled = await journal_intents(parts, [intent], self._risk.record_order, [proposed])
        if not_journaled is not None:
            return CommandResult(Outcome.REFUSED, not_journaled, data)
        failpoints.hit("after_intent_commit")
        parts.pipeline.record(parts.book.submit(intent))
        # The journal may have failed (or trading halted) while the intent was written: fail
        # closed (R12); the order is rejected unsent, like a -2010 answer (I6).
        blocked = parts.gate.new_orders_blocked(flattening=flattening)
        if blocked is not None:
            cid, reason = intent.client_order_id, f"not sent: {blocked}"
            parts.pipeline.record(parts.book.reject(cid, reason))
            return order_result(parts, Outcome.REFUSED, reason, cid, data)
        parts.in_flight.add(intent.client_order_id)
        failpoints.hit("after_mark_sending_commit")
        try:
            return await self._send(intent, data, flattening=flattening)
        finally:
            parts.in_flight.discard(intent.client_order_id)

    async def _check(
        self,
        request: OrderRequest,
        rules: SymbolRules,
        rounded: QuantizedOrder,
        data: dict[str, Any],
    ) -> tuple[CommandResult | None, Decimal | None]:
        """The local pre-trade check: every filter the venue would refuse, with the numbers;
        also the reference price it used (for the risk check)."""
        if rounded.qty is not None and rounded.qty <= 0:
            message = f"quantity {request.quantity} rounds down to 0 at step {rules.qty_step()}"
            return CommandResult(Outcome.REFUSED, message, data), None
        reference = await self._reference_price(request.symbol)
        violations = rules.check(
            request.side,
            request.type,
            rounded.qty,
            rounded.price,
            reference,
            quote_qty=request.quote_quantity,
            open_orders=len(self._parts.book.open_orders(request.symbol)),
        )
        if not violations:
            return None, reference
        data["violations"] = [
            {
                "filter": v.filter,
                "field": v.field,
                "message": v.message,
                "value": decimal_text(v.value),
                "limit": decimal_text(v.limit),
            }
            for v in violations
        ]
        message = "; ".join(f"{v.filter}: {v.message}" for v in violations)
        refusal = CommandResult(Outcome.REFUSED, f"refused before sending: {message}", data)
        return refusal, reference

    def _settled_by_stream(self, cid: str) -> bool:
        """The user stream reported the order before its create's reply failed (A12): a lost
        reply must not downgrade what the exchange already said."""
        order = self._parts.find_order(cid)
        return order is not None and (
            order.order_id is not None or order.last_known_state is not OrderState.PENDING_NEW
        )

    async def _reference_price(self, symbol: str) -> Decimal | None:
        """A fresh mark, else the last price over REST, else None (checks needing it skip)."""
        parts = self._parts
        mark = parts.mark_price(symbol)
        if mark is not None:
            return mark
        try:
            prices = await parts.link.call(parts.venue.ticker_prices(symbol))
        except VenueError as error:
            log.warning("no reference price for %s: %s", symbol, error)
            return None
        return prices.get(symbol)

    async def _send(
        self, intent: OrderIntent, data: dict[str, Any], *, flattening: bool = False
    ) -> CommandResult:
        parts = self._parts
        cid = intent.client_order_id
        for attempt in (1, 2):
            try:
                response = await parts.link.call(
                    parts.venue.create_order(
                        symbol=intent.symbol,
                        side=intent.side.value,
                        order_type=intent.type.value,
                        client_order_id=cid,
                        quantity=intent.qty,
                        quote_quantity=intent.quote_qty,
                        price=intent.price,
                        time_in_force=None
                        if intent.time_in_force is None
                        else intent.time_in_force.value,
                    )
                )
            except NotSent as error:
                # Retried only while new orders may still go out (the journal may have failed
                # or trading halted meanwhile: I6).
                blocked = parts.gate.new_orders_blocked(flattening=flattening)
                if attempt == 1 and blocked is None:
                    log.info("order %s not sent (%s); retrying once with the same id", cid, error)
                    continue
                why = error.message if blocked is None else blocked
                parts.pipeline.record(parts.book.reject(cid, f"not sent: {why}"))
                return order_result(
                    parts, Outcome.VENUE, f"{cid} could not be sent: {error}", cid, data
                )
            except RateLimited as error:
                parts.pipeline.record(parts.book.reject(cid, f"rate limited: {error.message}"))
                data["retry_after_s"] = round(error.retry_after, 3)
                return order_result(
                    self._parts,
                    Outcome.REFUSED,
                    f"{cid} not placed, rate limited: retry after {error.retry_after:.0f} s",
                    cid,
                    data,
                )
            except AuthError as error:
                parts.pipeline.record(parts.book.reject(cid, error.message))
                parts.halt(f"the exchange refused the API key: {error}")
                return order_result(parts, Outcome.VENUE, f"{cid} rejected: {error}", cid, data)
            except Rejected as error:
                parts.pipeline.record(parts.book.reject(cid, error.message))
                if error.code == FILTER_FAILURE_CODE:
                    parts.tasks.spawn(self._refresh_rules(), "refresh-rules")
                return order_result(parts, Outcome.VENUE, f"{cid} rejected: {error}", cid, data)
            except (Unknown, MalformedPayload) as error:
                # A reply we could not read came after sending: as unknown as no reply (A14).
                if self._settled_by_stream(cid):
                    self._settler.settle_if_incomplete(cid)
                    message = f"{cid}: reply lost, the user stream reported the order"
                    return order_result(parts, Outcome.OK, message, cid, data)
                parts.pipeline.record(parts.book.mark_unknown(cid))
                self._settler.schedule(
                    cid,
                    sent_ms=getattr(error, "server_time_ms", None),
                    window_ms=getattr(error, "recv_window_ms", None),
                )
                return order_result(
                    self._parts,
                    Outcome.UNKNOWN,
                    f"{cid}: outcome unknown ({error}); it is being settled by query and will "
                    "not be resent",
                    cid,
                    data,
                )
            failpoints.hit("after_response_before_commit")
            parts.pipeline.apply(response.status, response.fills)
            self._settler.settle_if_incomplete(cid)
            order = self._parts.find_order(cid)
            state = order.state.value if order is not None else response.status.state.value
            return order_result(parts, Outcome.OK, f"{cid} {state}", cid, data)
        raise AssertionError("unreachable")


def _rounded_json(request: OrderRequest, rounded: QuantizedOrder) -> dict[str, Any]:
    """What the order will be after rounding toward safety, to show the operator."""
    return {
        "symbol": request.symbol,
        "side": request.side.value,
        "type": request.type.value,
        "time_in_force": None if request.time_in_force is None else request.time_in_force.value,
        "quantity": decimal_text(rounded.qty),
        "quote_quantity": decimal_text(request.quote_quantity),
        "price": decimal_text(rounded.price),
        "requested_quantity": decimal_text(request.quantity),
        "requested_price": decimal_text(request.price),
        "adjusted": list(rounded.adjusted),
    }


def _sizing_json(
    result: SizingResult, equity: Decimal, risk_per_trade: Decimal, entry: Decimal, stop: Decimal
) -> dict[str, Any]:
    """A sizing's numbers for the operator, as plain decimal strings."""
    return {
        "quantity": fmt(result.qty),
        "equity": fmt(equity),
        "risk_per_trade": fmt(risk_per_trade),
        "risk_amount": fmt(result.risk_amount),
        "entry": fmt(entry),
        "stop": fmt(stop),
        "stop_distance": fmt(result.stop_distance),
        "notional": fmt(result.notional),
        "risk_at_stop": fmt(result.risk_at_stop),
        "capped_by": result.capped_by,
        "cap_reason": result.cap_reason,
        "refusal": result.refusal,
    }


def flag(args: Mapping[str, Any], key: str) -> bool:
    """A boolean argument: absent is False; anything but a JSON boolean is a usage error."""
    value = args.get(key, False)
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false")
    return value


def _confirmation_text(decision: RiskDecision) -> str:
    soft = next(c for c in decision.checks if c.rule is Rule.SOFT_NOTIONAL)
    return f"needs confirmation: {soft.message}; resend with confirmed: true (the CLI's --yes)"


def _preview_result(
    local: CommandResult | None,
    blocked: str | None,
    decision: RiskDecision,
    data: dict[str, Any],
) -> CommandResult:
    """A dry run's answer: what sending would do, with every check; nothing was sent."""
    data["dry_run"] = True  # the refusal a real send would give first, in the same order
    if blocked is not None:
        return CommandResult(Outcome.REFUSED, blocked, data)
    if local is not None:
        return CommandResult(Outcome.REFUSED, local.message, data)
    if not decision.allowed:
        return CommandResult(Outcome.REFUSED, f"refused by risk: {decision.refusal}", data)
    if decision.needs_confirmation:
        return CommandResult(Outcome.OK, f"preview: {_confirmation_text(decision)}", data)
    return CommandResult(Outcome.OK, "preview: every check passes; nothing was sent", data)


def order_result(
    parts: Parts, outcome: Outcome, message: str, cid: str, data: dict[str, Any]
) -> CommandResult:
    """A command's result with the order as it stands now, when the engine still knows it."""
    order = parts.find_order(cid)
    if order is not None:
        data = {**data, "order": order_json(order)}
    return CommandResult(outcome, message, data)
