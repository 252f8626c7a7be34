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
# (segment id, snapshot key under health, its age key, label)
LINKS = (
    ("link-rest", "rest", "last_ok_age_s", "REST"),
    ("link-user", "user_stream", "last_event_age_s", "user"),
    ("link-market", "market", "last_event_age_s", "market"),
)
# What is wrong comes before what is merely counted, so a narrow screen still shows it.
SEGMENTS = (
    "live",
    "preflight",
    "key-risks",
    "budget",
    "breaker",
    "maintenance",
    "journal",
    "clock",
    "weight",
)
LIVE_WORDS = {"awaiting_confirmation": "LIVE NOT CONFIRMED (L)", "starting": "LIVE STARTING"}
STATE_REASON_CHARS = 60


def link_text(label: str, health: Mapping[str, Any], age_key: str) -> tuple[str, bool]:
    """`REST ok 0s` when healthy, `user DOWN 12s` when not; and whether it is healthy."""
    state = str(health.get("state") or "?")
    good = state in GOOD_HEALTH
    text = f"{label} {'ok' if good else state}"
    if health.get(age_key) is not None:
        text += f" {age(health[age_key])}"
    return text, good


def budget_text(budget: Mapping[str, Any]) -> str | None:
    """The request budget's state when it is not OK, with its countdown (BANNED 42s)."""
    state = str(budget.get("state") or "OK")
    countdown = {
        "BANNED": budget.get("banned_for_s"),
        "PAUSED": budget.get("blocked_for_s"),
        "ORDERS_BLOCKED": budget.get("orders_blocked_for_s"),
    }.get(state)
    if state == "OK":
        banned = budget.get("banned_for_s") or 0
        return f"BANNED {age(banned)}" if banned > 0 else None
    text = state.replace("_", " ")
    return text if countdown is None else f"{text} {age(countdown)}"


def breaker_text(breaker: Mapping[str, Any]) -> str | None:
    """The circuit breaker when it is not closed (the Risk pane shows its count always)."""
    state = str(breaker.get("state") or "CLOSED")
    if state == "CLOSED":
        return None
    probe = breaker.get("probe_in_s")
    return f"BREAKER {state.replace('_', ' ')}" + ("" if probe is None else f" {age(probe)}")


class DeskHeader(Horizontal):
    """Two lines: who and what (mode, account, trading state), then every link's health."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__(id="header")
        self._clock = clock
        self._state = DeskState()

    def compose(self) -> ComposeResult:
        yield TextLine("?", id="mode")
        yield TextLine("", id="account")
        yield TextLine("", id="trading-state")
        yield TextLine("ctrl+k EMERGENCY STOP", id="stop-hint")
        with Horizontal(id="links"):
            yield TextLine("", id="not-answering", classes="link bad")
            for segment_id, *_ in LINKS:
                yield TextLine("", id=segment_id, classes="link")
            for segment_id in SEGMENTS:
                yield TextLine("", id=segment_id, classes="link")

    def show_state(self, state: DeskState) -> None:
        self._state = state
        mode = self.query_one("#mode", TextLine)
        mode.show(f" {state.mode} ")
        for known in MODES:
            mode.set_class(state.mode == known, f"mode-{known.lower()}")
            self.set_class(state.mode == known, f"mode-{known.lower()}")
        self.query_one("#account", TextLine).show(f"account {state.account}")
        trading = self.query_one("#trading-state", TextLine)
        text = f" {state.trading_state} "
        if state.trading_state != "ACTIVE" and state.halt_reason:
            text += f" {state.halt_reason[:STATE_REASON_CHARS]} "
        trading.show(text)
        for known in STATES:
            trading.set_class(state.trading_state == known, f"state-{known.lower()}")
        self.refresh_links()

    def _segment(self, segment_id: str, text: str | None, *, bad: bool = False) -> None:
        segment = self.query_one(f"#{segment_id}", TextLine)
        segment.display = text is not None
        segment.show(text or "")
        segment.set_class(bad, "bad")

    def refresh_links(self) -> None:
        """Redraw the health line; called every second too, so "last heard" keeps counting."""
        state = self._state
        if state.stale:
            heard = "never"
            if state.heard_at is not None:
                heard = age((self._clock() - state.heard_at).total_seconds()) + " ago"
            self._segment("not-answering", f"ENGINE NOT ANSWERING, last heard {heard}", bad=True)
            for segment_id, *_ in LINKS:
                self._segment(segment_id, None)
            for segment_id in SEGMENTS:
                self._segment(segment_id, None)
            return
        self._segment("not-answering", None)
        health = state.health
        for segment_id, key, age_key, label in LINKS:
            text, good = link_text(label, health.get(key) or {}, age_key)
            self._segment(segment_id, text, bad=not good)
        snapshot = state.snapshot or {}
        offset = snapshot.get("clock_offset_ms")
        self._segment("clock", None if offset is None else f"clock {offset:+d}ms")
        budget = snapshot.get("rate_budget") or {}
        used = budget.get("used_weight_1m")
        weight = None if used is None else f"weight {used}/{budget.get('weight_limit_1m')}"
        self._segment("weight", weight)
        self._segment("budget", budget_text(budget), bad=True)
        self._segment("breaker", breaker_text(snapshot.get("circuit_breaker") or {}), bad=True)
        maintenance = snapshot.get("maintenance") or {}
        paused = f"MAINTENANCE: {maintenance.get('reason')}" if maintenance.get("active") else None
        self._segment("maintenance", paused, bad=True)
        live = snapshot.get("live") or {}
        self._segment("live", LIVE_WORDS.get(str(live.get("state"))), bad=True)
        preflight = snapshot.get("preflight") or {}
        failed_checks = preflight.get("passed") is False
        self._segment("preflight", "PREFLIGHT FAILED" if failed_checks else None, bad=True)
        risks = preflight.get("accepted_key_risks") or []
        accepted = f"key risks accepted: {', '.join(map(str, risks))}" if risks else None
        self._segment("key-risks", accepted, bad=True)
        journal = health.get("journal") or {}
        failed = journal.get("state") not in (None, "OK")
        self._segment("journal", f"JOURNAL {journal.get('state')}" if failed else None, bad=True)
