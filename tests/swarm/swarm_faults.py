"""What can go wrong in one swarm run: a fault profile drawn from the seed, and the decisions.

The profile says which of RELIABILITY.md 2.1's knobs are on and how hard; `Faults` rolls the dice
for each request and each stream event with the run's fault RNG, until `clear()` (the quiesce)
turns everything off.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum


class RestFault(StrEnum):
    """What happens to one REST request (before: the exchange never executes it)."""

    NONE = "none"
    NOT_SENT = "not_sent"  # a connect failure: provably never left (NotSent)
    DROP = "drop"  # the connection died after sending; never reached the matching engine
    LOSE = "lose"  # executed, then the answer was lost
    HANG_BEFORE = "hang_before"  # no answer until the client's timeout; never executed
    HANG_AFTER = "hang_after"  # executed, but the answer came after the client's timeout
    E5XX_BEFORE = "5xx_before"  # 503 without executing
    E5XX_AFTER = "5xx_after"  # 503 after executing
    E1007_BEFORE = "-1007_before"  # TIMEOUT body without executing
    E1007_AFTER = "-1007_after"  # TIMEOUT body after executing
    E1006_AFTER = "-1006_after"  # UNEXPECTED_RESP after executing
    RATE_429 = "429"  # weight limit: refused, with Retry-After

    @property
    def executes(self) -> bool:
        return self in _EXECUTING


_EXECUTING = frozenset(
    {
        RestFault.NONE,
        RestFault.LOSE,
        RestFault.HANG_AFTER,
        RestFault.E5XX_AFTER,
        RestFault.E1007_AFTER,
        RestFault.E1006_AFTER,
    }
)
_ALL_REST = tuple(f for f in RestFault if f is not RestFault.NONE)


@dataclass(frozen=True)
class FaultProfile:
    """The knobs of one run. Rates are per request or per stream event; weights are how often
    the workload picks the fault as an action; times are virtual seconds."""

    rest_rate: float = 0.0
    rest_kinds: tuple[RestFault, ...] = ()
    latency_s: float = 0.0  # each way, uniform in [0, latency_s]
    hang_s: float = 3.0  # the client's timeout
    retry_after_s: float = 1.0
    event_drop: float = 0.0
    event_duplicate: float = 0.0
    event_swap: float = 0.0  # hold an event back behind the next one
    event_delay_s: float = 0.0
    visibility_lag_ms: int = 0
    stall_weight: int = 0
    disconnect_weight: int = 0
    clock_jump_weight: int = 0
    clog_weight: int = 0  # REST held in the pipe and the stream stalled, freed in random order
    disk_full_weight: int = 0  # the journal's disk fills up (until the next restart)

    @property
    def calm(self) -> bool:
        return self == FaultProfile(latency_s=self.latency_s, event_delay_s=self.event_delay_s)

    def describe(self) -> str:
        if self.calm:
            return "calm"
        parts = []
        if self.rest_rate:
            kinds = ",".join(k.value for k in self.rest_kinds)
            parts.append(f"rest {self.rest_rate:.2f} [{kinds}]")
        for name in ("event_drop", "event_duplicate", "event_swap"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name} {value:.2f}")
        if self.visibility_lag_ms:
            parts.append(f"lag {self.visibility_lag_ms} ms")
        for name in (
            "stall_weight",
            "disconnect_weight",
            "clock_jump_weight",
            "clog_weight",
            "disk_full_weight",
        ):
            if getattr(self, name):
                parts.append(name.removesuffix("_weight"))
        return ", ".join(parts)


def draw_profile(rng: random.Random) -> FaultProfile:
    """A profile: about one run in six calm, the others with a random subset of knobs on."""
    latency = rng.choice((0.0, 0.002, 0.02))
    delay = rng.choice((0.0, 0.005, 0.05))
    if rng.random() < 0.15:
        return FaultProfile(latency_s=latency, event_delay_s=delay)

    def on(rate: float) -> bool:
        return rng.random() < rate

    kinds = tuple(k for k in _ALL_REST if on(0.5)) or (rng.choice(_ALL_REST),)
    return FaultProfile(
        rest_rate=rng.choice((0.02, 0.05, 0.1, 0.2)) if on(0.8) else 0.0,
        rest_kinds=kinds,
        latency_s=latency,
        hang_s=rng.choice((1.0, 3.0, 10.0)),
        retry_after_s=rng.choice((0.5, 2.0)),
        event_drop=rng.choice((0.01, 0.05)) if on(0.3) else 0.0,
        event_duplicate=rng.choice((0.05, 0.2)) if on(0.4) else 0.0,
        event_swap=rng.choice((0.05, 0.2)) if on(0.4) else 0.0,
        event_delay_s=delay,
        visibility_lag_ms=rng.choice((50, 300, 1500)) if on(0.3) else 0,
        stall_weight=2 if on(0.3) else 0,
        disconnect_weight=2 if on(0.3) else 0,
        clock_jump_weight=2 if on(0.3) else 0,
        clog_weight=2 if on(0.3) else 0,
        disk_full_weight=1 if on(0.2) else 0,
    )


@dataclass
class Faults:
    """The live decisions of one run; `clear()` ends every fault (the quiesce)."""

    profile: FaultProfile
    rng: random.Random
    active: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    clogged_until: float = 0.0  # loop time until which REST requests wait in the pipe

    def clear(self) -> None:
        self.active = False
        self.clogged_until = 0.0

    def clog(self, until: float) -> None:
        self.count("clog")
        self.clogged_until = max(self.clogged_until, until)

    def arrives_late(self) -> bool:
        """Whether a request the client gave up on still reaches the exchange."""
        return self.rng.random() < 0.5

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def rest(self) -> RestFault:
        profile = self.profile
        if not self.active or not profile.rest_rate or self.rng.random() >= profile.rest_rate:
            return RestFault.NONE
        fault = self.rng.choice(profile.rest_kinds)
        self.count(fault.value)
        return fault

    def latency(self) -> float:
        return self.rng.uniform(0, self.profile.latency_s) if self.profile.latency_s else 0.0

    def event_delay(self) -> float:
        if not self.profile.event_delay_s:
            return 0.0
        return self.rng.uniform(0, self.profile.event_delay_s)

    def _roll(self, name: str, rate: float) -> bool:
        if not self.active or not rate or self.rng.random() >= rate:
            return False
        self.count(name)
        return True

    def drop_event(self) -> bool:
        return self._roll("event_drop", self.profile.event_drop)

    def duplicate_event(self) -> bool:
        return self._roll("event_duplicate", self.profile.event_duplicate)

    def swap_event(self) -> bool:
        return self._roll("event_swap", self.profile.event_swap)
