"""`spotdesk check`'s run: every check against the configured exchange with the configured key.

It reads only (account, key permissions, time, exchangeInfo, a user stream subscription that is
closed again) and never places, changes or cancels anything.
"""

from __future__ import annotations

import asyncio
import pathlib
import random

from engine.config import Settings
from engine.preflight.checks import (
    Policy,
    attempt,
    clock_line,
    files_line,
    journal_line,
    keys_line,
    permissions_line,
    symbols_line,
    user_stream_line,
)
from engine.preflight.report import Check, CheckResult, PreflightReport, fail
from engine.service.profile import credentials_from, journal_path
from engine.venue.binance import BinanceVenue, VenueOptions
from engine.venue.endpoints import Endpoints, endpoints_for
from engine.venue.errors import VenueError
from engine.venue.health import StreamHealth, StreamStatus
from engine.venue.supervisor import SupervisorConfig
from engine.venue.timing import Clock, SystemClock

_NETWORK_CHECKS = (Check.KEYS, Check.KEY_PERMISSIONS, Check.CLOCK, Check.SYMBOLS, Check.USER_STREAM)


async def run_checks(
    settings: Settings,
    *,
    cwd: pathlib.Path,
    policy: Policy | None = None,
    clock: Clock | None = None,
    venue_options: VenueOptions | None = None,
    endpoints: Endpoints | None = None,
) -> PreflightReport:
    """Every line, local ones first. SIM needs `settings.sim_url` (the caller finds or starts
    the embedded exchange); `endpoints` replaces the mode's (a rehearsal of the testnet's
    missing /sapi against the embedded exchange)."""
    used_policy = policy or Policy.for_settings(settings)
    used_clock = clock or SystemClock()
    results = [
        await asyncio.to_thread(files_line, settings, cwd=cwd),
        await asyncio.to_thread(
            journal_line,
            journal_path(settings, settings.account),
            mode=settings.mode.value,
            account=settings.account,
        ),
    ]
    results += await _network_lines(settings, used_policy, used_clock, venue_options, endpoints)
    return PreflightReport(tuple(results), used_clock.now(), used_policy.accepted_names)


async def _network_lines(
    settings: Settings,
    policy: Policy,
    clock: Clock,
    venue_options: VenueOptions | None,
    endpoints: Endpoints | None,
) -> list[CheckResult]:
    try:
        credentials = credentials_from(settings)
        endpoints = endpoints or endpoints_for(settings.mode, settings.sim_url)
    except ValueError as error:
        return [fail(check, f"not checked: {error}") for check in _NETWORK_CHECKS]
    venue = BinanceVenue(
        endpoints,
        credentials,
        clock=clock,
        options=venue_options or VenueOptions(request_timeout_s=10.0, close_timeout_s=3.0),
    )
    try:
        try:
            await venue.start()
        except VenueError as error:
            where = endpoints.rest_url.removesuffix("/api")
            return [
                fail(check, f"not checked: the exchange at {where} cannot be reached: {error}")
                for check in _NETWORK_CHECKS
            ]
        account = await attempt(venue.account())
        restrictions = await attempt(venue.api_restrictions())
        offset = await attempt(venue.sync_time())
        info = await attempt(venue.exchange_info())
        stream_problem = await probe_user_stream(
            venue, timeout_s=settings.preflight.user_stream_timeout_s
        )
    finally:
        await venue.close()
    allowed = tuple(settings.risk.allowed_symbols) or None
    return [
        keys_line(account, ed25519=credentials.private_key_pem is not None, policy=policy),
        permissions_line(restrictions, policy=policy, now=clock.now()),
        clock_line(offset, policy=policy),
        symbols_line(info if isinstance(info, VenueError) else info.symbols, wanted=allowed),
        user_stream_line(stream_problem),
    ]


async def probe_user_stream(venue: BinanceVenue, *, timeout_s: float) -> str | None:
    """Subscribe the user data stream once: None when it subscribed, else why not. The venue's
    `close()` ends the subscription."""
    loop = asyncio.get_running_loop()
    first: asyncio.Future[StreamStatus] = loop.create_future()

    def on_status(status: StreamStatus) -> None:
        if not first.done():
            first.set_result(status)

    supervisor = venue.user_stream(
        lambda _event: None,
        rng=random.Random(0),
        on_status=on_status,
        config=SupervisorConfig(connect_timeout_s=timeout_s, exit_timeout_s=2.0),
    )
    supervisor.start()
    try:
        status = await asyncio.wait_for(first, timeout_s + 1.0)
    except TimeoutError:
        return f"did not subscribe within {timeout_s:g} s"
    if status.health is StreamHealth.CONNECTED:
        return None
    return f"did not subscribe: {status.reason}"
