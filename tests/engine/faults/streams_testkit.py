"""Helpers for the stream, rate-limit, clock, breaker, maintenance and housekeeping fault tests:
an engine with small knobs whose every outgoing REST request is logged (aiohttp tracing on the
real python-binance session), and waits on the engine's event stream.

Imported by name (this folder's conftest puts it and `tests/engine/service` on sys.path).
"""

from __future__ import annotations

import pathlib
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from engine_testkit import SimAccount, event_seen, settings_for

from engine.service.engine import Engine, make_engine
from engine.service.settings import BreakerSettings, HousekeepingSettings
from engine.sim.runner import SimServer
from engine.venue.binance import VenueOptions
from engine.venue.supervisor import SupervisorConfig

BTC = "BTCUSDT"
ETH = "ETHUSDT"

QUICK_STREAM = SupervisorConfig(
    stall_after_s=30.0,
    connect_timeout_s=5.0,
    exit_timeout_s=2.0,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
)


@dataclass(frozen=True)
class Sent:
    """One REST request as python-binance sent it: when (monotonic), method, path, answer."""

    at: float
    method: str
    path: str
    status: int | None


@dataclass
class RequestLog:
    """Every REST request the engine's client sends, in order (aiohttp tracing)."""

    sent: list[Sent] = field(default_factory=list)

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.sent.append(
                Sent(time.monotonic(), params.method, params.url.path, params.response.status)
            )

        async def on_error(
            session: Any, context: Any, params: aiohttp.TraceRequestExceptionParams
        ) -> None:
            self.sent.append(Sent(time.monotonic(), params.method, params.url.path, None))

        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_error)
        return trace

    def since(self, at: float) -> list[Sent]:
        return [s for s in self.sent if s.at >= at]

    def statuses(self) -> list[int | None]:
        return [s.status for s in self.sent]


def engine_on(
    sim: SimServer,
    account: SimAccount,
    data_dir: pathlib.Path,
    *,
    log: RequestLog | None = None,
    throttle: float = 0.8,
    breaker: BreakerSettings | None = None,
    housekeeping: HousekeepingSettings | None = None,
    **options: Any,
) -> Engine:
    """An engine (not started) with quick streams, no periodic work unless asked, wide risk
    limits, and (with `log`) every REST request recorded."""
    settings = settings_for(sim, account, data_dir).model_copy(
        update={
            "breaker": breaker or BreakerSettings(),
            "housekeeping": housekeeping or HousekeepingSettings(),
        }
    )
    defaults: dict[str, Any] = {
        "symbols": (BTC, ETH, "BNBUSDT"),
        "reconcile_interval_s": None,
        "reconcile_retry_s": 0.2,
        "user_stream": QUICK_STREAM,
        "market_stream": QUICK_STREAM,
        "settle_delays_s": (0.0, 0.1, 0.2, 0.4),
        "market_data": False,
        "degraded_poll_s": None,
        "clock_sync_interval_s": None,
        "rules_refresh_interval_s": None,
        "maintenance_backoff_s": (0.05, 0.2),
    }
    session = {"trace_configs": [log.trace_config()]} if log is not None else None
    return make_engine(
        settings,
        seed=3,
        venue_options=VenueOptions(
            request_timeout_s=3.0,
            close_timeout_s=2.0,
            session_params=session,
            weight_throttle_fraction=throttle,
        ),
        **{**defaults, **options},
    )


async def seq_now(engine: Engine) -> int:
    return int((await engine.snapshot())["seq"])


async def next_event(engine: Engine, since: int, name: str, **fields: Any) -> dict[str, Any]:
    """The first event named `name` after `since` whose fields start with the given values."""

    def matches(event: dict[str, Any]) -> bool:
        if event["event"] != name:
            return False
        return all(str(event.get(key, "")).startswith(str(value)) for key, value in fields.items())

    return await event_seen(engine, matches, since)
