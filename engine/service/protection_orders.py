"""Placing and cancelling protective orders: one leg (POST /order) or an OCO (POST
/orderList/oco), with the order discipline of `engine.service.orders`: every leg's intent
journaled before sending (R1), the answer sorted by the venue taxonomy (R2), an unknown outcome
settled by query and never resent (R3)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from engine.core.intents import OrderIntent
from engine.protection import LegPlan, ProtectionPlan
from engine.risk import ProposedOrder, RiskDecision
from engine.service.api import Outcome
from engine.service.orders import journal_intents
from engine.service.parts import Parts
from engine.service.port import VenuePort
from engine.venue.binance import OcoLeg
from engine.venue.errors import AuthError, Rejected, Unknown, VenueError
from engine.venue.parse import OrderResponse

log = logging.getLogger(__name__)

BIPS = Decimal(10_000)


class RiskChoke(Protocol):
    """The engine's risk choke point (`engine.service.riskgate.RiskGate`)."""

    async def decide(self, order: ProposedOrder, mark: Decimal | None = None) -> RiskDecision: ...

    def record_order(self, order: ProposedOrder) -> None: ...


@dataclass(frozen=True)
class Placed:
    """How a placement ended, with our ids for the legs (and the list, for an OCO)."""

    outcome: Outcome
    message: str
    order_ids: tuple[str, ...] = ()
    list_client_order_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class ProtectiveOrders:
    """Sends and cancels the legs of a protection plan."""

    def __init__(self, parts: Parts, settle: Callable[[str], None], risk: RiskChoke | None) -> None:
        self._parts = parts
        self._settle = settle
        self._risk = risk

    @property
    def _venue(self) -> VenuePort:
        return self._parts.venue

    async def last_price(self, symbol: str) -> Decimal | None:
        """The venue's last price (the one Binance checks OCO relations against)."""
        parts = self._parts
        try:
            prices = await parts.link.call(parts.venue.ticker_prices(symbol))
        except VenueError as error:
            log.warning("no last price for %s: %s", symbol, error)
            return parts.mark_price(symbol)
        return prices.get(symbol)

    async def refresh_balances(self) -> None:
        """Read the account over REST: after a cancel, or when a fill's balance change has not
        streamed in yet, so the risk check sees what the exchange will see."""
        parts = self._parts
        try:
            account = await parts.link.call(parts.venue.account())
        except VenueError as error:
            log.warning("account not refreshed before protection: %s", error)
            return
        parts.pipeline.apply_account(account.balances, account.update_time)

    async def place(self, plan: ProtectionPlan, last: Decimal) -> Placed:
        """Every leg through the risk choke point (confirmed: protection is the engine's own
        order), then journaled and sent."""
        parts = self._parts
        blocked = parts.gate.new_orders_blocked()
        if blocked is not None:
            return Placed(Outcome.REFUSED, blocked)
        proposals = [
            ProposedOrder(
                plan.symbol,
                plan.side,
                leg.type,
                qty=plan.quantity,
                price=leg.price,
                stop_price=_risk_stop_price(leg, last),
                confirmed=True,
            )
            for leg in plan.legs
        ]
        if self._risk is not None:
            for proposed in proposals:
                decision = await self._risk.decide(proposed, last)
                if not decision.allowed:
                    message = f"{proposed.type} refused by risk: {decision.refusal}"
                    return Placed(Outcome.REFUSED, message, data={"risk": decision.to_json()})
        now = parts.clock.now()
        intents = [
            OrderIntent(
                client_order_id=parts.ids.next(),
                symbol=plan.symbol,
                side=plan.side,
                type=leg.type,
                qty=plan.quantity,
                created_at=now,
                price=leg.price,
                stop_price=leg.stop_price,
                time_in_force=leg.time_in_force,
            )
            for leg in plan.legs
        ]
        list_cid = parts.ids.next() if plan.is_oco else None
        cids = tuple(intent.client_order_id for intent in intents)
        # Every leg's intent and today's counters go out in one transaction.
        record_order = None if self._risk is None else self._risk.record_order
        not_journaled = await journal_intents(parts, intents, record_order, proposals)
        if not_journaled is not None:
            return Placed(Outcome.REFUSED, not_journaled)
        for intent in intents:
            parts.pipeline.record(parts.book.submit(intent))
        parts.in_flight.update(cids)
        try:
            return await self._send(plan, cids, list_cid)
        finally:
            parts.in_flight.difference_update(cids)

    async def _send(
        self, plan: ProtectionPlan, cids: tuple[str, ...], list_cid: str | None
    ) -> Placed:
        parts = self._parts
        try:
            if list_cid is None:
                leg = plan.legs[0]
                response = await parts.link.call(
                    self._venue.create_order(
                        symbol=plan.symbol,
                        side=plan.side.value,
                        order_type=leg.type.value,
                        client_order_id=cids[0],
                        quantity=plan.quantity,
                        price=leg.price,
                        stop_price=leg.stop_price,
                        time_in_force=_tif(leg),
                        trailing_delta=leg.trailing_delta,
                    )
                )
                responses: tuple[OrderResponse, ...] = (response,)
            else:
                above, below = (
                    _oco_leg(leg, cid) for leg, cid in zip(plan.legs, cids, strict=True)
                )
                result = await parts.link.call(
                    self._venue.create_oco(
                        symbol=plan.symbol,
                        side=plan.side.value,
                        quantity=plan.quantity,
                        list_client_order_id=list_cid,
                        above=above,
                        below=below,
                    )
                )
                responses = result.legs
        except Unknown as error:
            for cid in cids:
                parts.pipeline.record(parts.book.mark_unknown(cid))
                self._settle(cid)
            message = f"outcome unknown ({error}); settling by query, never resent"
            return Placed(Outcome.UNKNOWN, message, cids, list_cid)
        except VenueError as error:
            for cid in cids:
                parts.pipeline.record(parts.book.reject(cid, error.message))
            if isinstance(error, AuthError):
                parts.halt(f"the exchange refused the API key: {error}")
            outcome = Outcome.VENUE if isinstance(error, Rejected | AuthError) else Outcome.REFUSED
            return Placed(outcome, f"not placed: {error}")
        for response in responses:
            parts.pipeline.apply(response.status, response.fills)
        kinds = " + ".join(leg.type.value for leg in plan.legs)
        return Placed(
            Outcome.OK,
            f"{'OCO ' if list_cid else ''}{kinds} placed",
            cids,
            list_cid,
            {"order_ids": list(cids), "list_client_order_id": list_cid},
        )

    async def cancel(self, symbol: str, cids: tuple[str, ...], list_cid: str | None) -> None:
        """Cancel a protection's working legs (the whole list for an OCO). A -2011 (already
        final) is not a failure: the order is queried and its end folded in."""
        parts = self._parts
        open_cids = [cid for cid in cids if (o := parts.book.get(cid)) is not None and o.is_open]
        if not open_cids:
            return
        for cid in open_cids:
            parts.pipeline.record(parts.book.request_cancel(cid))
        try:
            if list_cid is not None:
                result = await parts.link.call(self._venue.cancel_order_list(symbol, list_cid))
                for leg in result.legs:
                    parts.pipeline.apply(leg.status, leg.fills)
            else:
                report = await parts.link.call(parts.venue.cancel_order(symbol, open_cids[0]))
                parts.pipeline.apply(report)
        except Rejected as error:
            for cid in open_cids:
                parts.pipeline.record(parts.book.cancel_rejected(cid, error.message))
                self._settle(cid)
            log.info("cancel of %s's protection refused (%s); settling by query", symbol, error)
        except VenueError:
            for cid in open_cids:
                parts.pipeline.record(parts.book.cancel_rejected(cid, "cancel not confirmed"))
                self._settle(cid)
            raise


def _risk_stop_price(leg: LegPlan, last: Decimal) -> Decimal | None:
    """What risk sees as the stop price: a trailing stop's trigger as it stands at placement
    (`ProposedOrder` has no trailing delta; risk's filter check wants a stop price)."""
    if leg.stop_price is not None or leg.trailing_delta is None:
        return leg.stop_price
    return last * (1 - Decimal(leg.trailing_delta) / BIPS)


def _tif(leg: LegPlan) -> str | None:
    return None if leg.time_in_force is None else leg.time_in_force.value


def _oco_leg(leg: LegPlan, cid: str) -> OcoLeg:
    return OcoLeg(
        order_type=leg.type.value,
        client_order_id=cid,
        price=leg.price,
        stop_price=leg.stop_price,
        trailing_delta=leg.trailing_delta,
        time_in_force=_tif(leg),
    )
