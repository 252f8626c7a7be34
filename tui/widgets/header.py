"""`DeskHeader`: mode, account, trading state and the health of every link, always on screen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal

from tui.format import age
from tui.state import DeskState
from tui.widgets.textline import TextLine

MODES = ("SIM", "TESTNET", "LIVE")
STATES = ("ACTIVE", "REDUCING", "HALTED")
GOOD_HEALTH = ("OK", "CONNECTED")


def _link(name: str, health: Mapping[str, Any], age_key: str) -> tuple[str, bool]:
    state = str(health.get("state") or "?")
    text = f"{name} {state}"
    if health.get(age_key) is not None:
        text += f" {age(health[age_key])}"
    return text, state in GOOD_HEALTH


class DeskHeader(Horizontal):
    """Two lines: who and what (mode, account, trading state), then the links' health."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(id="header")
        self._clock = clock
        self._state = DeskState()

    def compose(self) -> ComposeResult:
        yield TextLine("?", id="mode")
        yield TextLine("", id="account")
        yield TextLine("", id="trading-state")
        yield TextLine("ctrl+k EMERGENCY STOP", id="stop-hint")
        yield TextLine("", id="links")

    def show_state(self, state: DeskState) -> None:
        self._state = state
        mode = self.query_one("#mode", TextLine)
        mode.show(f" {state.mode} ")
        for known in MODES:
            mode.set_class(state.mode == known, f"mode-{known.lower()}")
        self.query_one("#account", TextLine).show(f"account {state.account}")
        trading = self.query_one("#trading-state", TextLine)
        text = f" {state.trading_state} "
        if state.trading_state != "ACTIVE" and state.halt_reason:
            text += f" {state.halt_reason[:40]} "
        trading.show(text)
        for known in STATES:
            trading.set_class(state.trading_state == known, f"state-{known.lower()}")
        self.refresh_links()

    def refresh_links(self) -> None:
        """Redraw the health line; called every second too, so ages keep counting."""
        state = self._state
        links = self.query_one("#links", TextLine)
        if state.stale:
            heard = "never"
            if state.heard_at is not None:
                heard = age((self._clock() - state.heard_at).total_seconds()) + " ago"
            links.show(f"ENGINE NOT ANSWERING, last heard {heard}")
            links.set_class(True, "bad")
            return
        health = state.health
        parts = [
            _link("REST", health.get("rest") or {}, "last_ok_age_s"),
            _link("user", health.get("user_stream") or {}, "last_event_age_s"),
            _link("market", health.get("market") or {}, "last_event_age_s"),
        ]
        journal = health.get("journal") or {}
        if journal.get("state") not in (None, "OK"):
            parts.append((f"journal {journal.get('state')}", False))
        snapshot = state.snapshot or {}
        offset = snapshot.get("clock_offset_ms")
        budget = snapshot.get("rate_budget") or {}
        extras = []
        if offset is not None:
            extras.append(f"clock {offset:+d}ms")
        if budget.get("used_weight_1m") is not None:
            extras.append(f"weight {budget['used_weight_1m']}/{budget.get('weight_limit_1m')}")
        links.show("  ".join([text for text, _ in parts] + extras))
        links.set_class(not all(ok for _, ok in parts), "bad")
