"""User data stream fan-out: core account events to WebSocket API subscriptions, with faults.

Stream faults applied here, per account (or every account when none is named):
`duplicate` sends each of the next N events twice; `reorder` holds the next N events and then
sends them in reverse order (held events go out when the fault is cleared). The
connection-level faults (stall, drop, serverShutdown) live in `FrameConnection`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.sim.core.clock import Clock
from engine.sim.server.connection import FrameConnection

log = logging.getLogger(__name__)


class UserEventSource(Protocol):
    def add_user_listener(self, account_id: int, fn: Callable[[dict[str, Any]], None]) -> int: ...
    def remove_user_listener(self, token: int) -> None: ...


@dataclass
class _EventFaults:
    duplicate_left: int = 0
    reorder_size: int = 0
    held: list[tuple[int, str]] = field(default_factory=list)  # (account, event JSON)

    @property
    def active(self) -> bool:
        return self.duplicate_left > 0 or self.reorder_size > 0


@dataclass(frozen=True)
class Subscription:
    account_id: int
    connection: FrameConnection
    subscription_id: int


ANY_ACCOUNT = -1


class UserStreamHub:
    """Keeps one core listener per subscribed account and fans its events out."""

    def __init__(self, exchange: UserEventSource, clock: Clock) -> None:
        self._exchange = exchange
        self._clock = clock
        self._subs: dict[int, list[Subscription]] = {}
        self._tokens: dict[int, int] = {}
        self._faults: dict[int, _EventFaults] = {}

    # subscriptions ---------------------------------------------------------------------

    def subscribe(self, sub: Subscription) -> None:
        subs = self._subs.setdefault(sub.account_id, [])
        subs.append(sub)
        if sub.account_id not in self._tokens:
            self._tokens[sub.account_id] = self._exchange.add_user_listener(
                sub.account_id, self._listener(sub.account_id)
            )

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.account_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.account_id, None)
            token = self._tokens.pop(sub.account_id, None)
            if token is not None:
                self._exchange.remove_user_listener(token)

    def connections(self, account_id: int | None) -> set[FrameConnection]:
        """The connections subscribed to `account_id` (every subscribed one for None)."""
        if account_id is None:
            return {s.connection for subs in self._subs.values() for s in subs}
        return {s.connection for s in self._subs.get(account_id, [])}

    def attach(self, exchange: UserEventSource) -> None:
        """Move every core listener to a new exchange (after an admin reset)."""
        for token in self._tokens.values():
            self._exchange.remove_user_listener(token)
        self._exchange = exchange
        self._tokens = {
            account_id: exchange.add_user_listener(account_id, self._listener(account_id))
            for account_id in self._subs
        }

    # faults ----------------------------------------------------------------------------

    def duplicate(self, account_id: int | None, count: int) -> None:
        self._fault(account_id).duplicate_left = count

    def reorder(self, account_id: int | None, count: int) -> None:
        self._fault(account_id).reorder_size = count

    def clear_faults(self) -> None:
        """Stop duplicating and reordering; send the events held for reordering, in order."""
        faults, self._faults = self._faults, {}
        for fault in faults.values():
            for account_id, event_json in fault.held:
                self._fan_out(account_id, event_json)

    def faults_json(self) -> list[dict[str, Any]]:
        return [
            {
                "account": None if account_id == ANY_ACCOUNT else account_id,
                "duplicateLeft": f.duplicate_left,
                "reorderSize": f.reorder_size,
                "held": len(f.held),
            }
            for account_id, f in self._faults.items()
            if f.active or f.held
        ]

    def _fault(self, account_id: int | None) -> _EventFaults:
        key = ANY_ACCOUNT if account_id is None else account_id
        return self._faults.setdefault(key, _EventFaults())

    # delivery --------------------------------------------------------------------------

    def _listener(self, account_id: int) -> Callable[[dict[str, Any]], None]:
        def deliver(event: dict[str, Any]) -> None:
            try:
                self._deliver(account_id, json.dumps(event, separators=(",", ":")))
            except Exception:  # a listener must never break the exchange that calls it
                log.exception("user event delivery failed for account %s", account_id)

        return deliver

    def _deliver(self, account_id: int, event_json: str) -> None:
        fault = self._faults.get(account_id) or self._faults.get(ANY_ACCOUNT)
        if fault is None or not fault.active:
            self._fan_out(account_id, event_json)
            return
        copies = 1
        if fault.duplicate_left > 0:
            fault.duplicate_left -= 1
            copies = 2
        if fault.reorder_size > 0:
            fault.held.extend([(account_id, event_json)] * copies)
            if len(fault.held) >= fault.reorder_size:
                held, fault.held, fault.reorder_size = fault.held, [], 0
                for held_account, held_json in reversed(held):
                    self._fan_out(held_account, held_json)
            return
        for _ in range(copies):
            self._fan_out(account_id, event_json)

    def _fan_out(self, account_id: int, event_json: str) -> None:
        for sub in self._subs.get(account_id, []):
            sub.connection.send(f'{{"subscriptionId":{sub.subscription_id},"event":{event_json}}}')

    def terminated_frame(self, subscription_id: int) -> str:
        """The eventStreamTerminated frame sent after an unsubscribe."""
        event = {"e": "eventStreamTerminated", "E": self._clock.now_ms()}
        return json.dumps({"subscriptionId": subscription_id, "event": event})
