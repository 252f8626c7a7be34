"""Starts and stops the embedded exchange: in-process for tests, standalone for `spotdesk sim`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pathlib
import socket
from decimal import Decimal
from typing import Any

from aiohttp import web

from engine.sim.core.clock import Clock, SkewedClock, SystemClock
from engine.sim.core.exchange import Exchange
from engine.sim.server.admin import generate_key
from engine.sim.server.admin_client import AdminClient
from engine.sim.server.app import SimApp, build_app
from engine.sim.server.context import SimContext
from engine.sim.server.ratelimit import LimitConfig, RateLimiter
from engine.sim.store import SimStore, Snapshot, StateFlusher, StoreError

log = logging.getLogger(__name__)

# About 12,300 USDT of equity, of which ~2,300 in three coins: inside the default risk limits
# (engine/risk/limits.py), so a fresh desk can trade at once.
DEMO_BALANCES: dict[str, Decimal] = {
    "USDT": Decimal("10000"),
    "BTC": Decimal("0.01"),
    "ETH": Decimal("0.2"),
    "BNB": Decimal("1"),
}
ADVANCE_INTERVAL_S = 0.1


class SimStartError(Exception):
    """The sim could not start (port in use, unusable state file); the message says why."""


def read_credentials_file(path: pathlib.Path) -> tuple[str, str]:
    """The demo key and HMAC secret from a JSON file `{"api_key": ..., "api_secret": ...}`.

    How a parent hands the sim its key without a command line (which every user of the machine
    can read in `ps`): the engine keeps its demo key in such a file, 0600. SimStartError names
    the file, never its content."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return str(raw["api_key"]), str(raw["api_secret"])
    except OSError as error:
        raise SimStartError(f"cannot read the credentials file {path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise SimStartError(
            f"{path} is not a credentials file (JSON with api_key and api_secret)"
        ) from None


class SimServer:
    """The embedded exchange on one port: `async with SimServer(port=0) as sim: ...`.

    On the first start (no state, or no state file) it creates the demo account with
    DEMO_BALANCES and an HMAC key (`api_key`/`api_secret`, generated unless given), and
    remembers them in the state file. With `frozen_market` the price path only moves through
    the admin API (tests); otherwise it follows real time.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        state_path: pathlib.Path | str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        frozen_market: bool = False,
        clock: Clock | None = None,
        limits: LimitConfig | None = None,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.seed = seed
        self.state_path = pathlib.Path(state_path) if state_path is not None else None
        self._wanted_key = api_key
        self._wanted_secret = api_secret
        self.frozen_market = frozen_market
        self.clock = SkewedClock(clock or SystemClock())
        self._limits = limits or LimitConfig()
        self._flush_interval_s = flush_interval_s
        self.port = 0
        self.demo_account_id = 0
        self.api_key = ""
        self.api_secret = ""
        self._store: SimStore | None = None
        self._flusher: StateFlusher | None = None
        self._runner: web.AppRunner | None = None
        self._sim_app: SimApp | None = None
        self._ctx: SimContext | None = None
        self._advancer: asyncio.Task[None] | None = None
        self.admin = AdminClient("http://127.0.0.1")

    # addresses -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The REST base, e.g. http://127.0.0.1:8765 (python-binance's API_URL is url + /api)."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def ws_api_url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}/ws-api/v3"

    @property
    def stream_url(self) -> str:
        """The market stream base, with the trailing slash BinanceSocketManager needs."""
        return f"ws://{_url_host(self.host)}:{self.port}/"

    @property
    def exchange(self) -> Exchange:
        if self._ctx is None:
            raise RuntimeError("the sim is not running")
        return self._ctx.exchange

    @property
    def app(self) -> web.Application:
        """The aiohttp application (for tests that call handlers directly)."""
        if self._sim_app is None:
            raise RuntimeError("the sim is not running")
        return self._sim_app.app

    @property
    def ctx(self) -> SimContext:
        if self._ctx is None:
            raise RuntimeError("the sim is not running")
        return self._ctx

    # life ------------------------------------------------------------------------------------

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        snapshot = await asyncio.to_thread(self._open_store)
        if snapshot is not None:
            exchange = Exchange.from_state(snapshot.exchange, clock=self.clock)
            exchange.mark_saved()  # the file holds it: from now on only changes are written
            self._restore_server_state(exchange, snapshot.server)
        else:
            exchange = self._new_exchange()
        if self._store is not None:
            self._flusher = StateFlusher(
                self._store, self._take_changes, interval_s=self._flush_interval_s
            )
        self._ctx = SimContext(
            exchange,
            self.clock,
            RateLimiter(self.clock, self._limits),
            mark_dirty=self._mark_dirty,
        )
        self._sim_app = build_app(self._ctx, self._reset)
        try:
            await self._listen()
        except BaseException:
            await self._close_store()
            raise
        self.admin = AdminClient(self.url)
        if self._flusher is not None:
            self._flusher.mark_dirty()  # the first start, or a key added on this start
            self._flusher.start()
        if not self.frozen_market:
            self._advancer = asyncio.create_task(self._advance(), name="sim-market")
            self._advancer.add_done_callback(_log_failure)

    async def _listen(self) -> None:
        assert self._sim_app is not None
        runner = web.AppRunner(
            self._sim_app.app, handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            reason = os.strerror(error.errno).lower() if error.errno else str(error)
            raise SimStartError(
                f"cannot listen on {self.host}:{self._requested_port}: {reason}"
            ) from None
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = next(
            s.getsockname()[1] for s in sockets if s.family in (socket.AF_INET, socket.AF_INET6)
        )

    async def stop(self) -> None:
        """Announce serverShutdown on every WebSocket, stop serving, write the state."""
        if self._advancer is not None:
            self._advancer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._advancer
            self._advancer = None
        if self._sim_app is not None:
            self._sim_app.announce_shutdown()
            await asyncio.sleep(0.05)  # let the writers send the last frames
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._ctx is not None:
            self._ctx.markets.close()
        await self.admin.close()
        await self._close_store()

    async def _close_store(self) -> None:
        if self._flusher is not None:
            await self._flusher.close()
            self._flusher = None
        if self._store is not None:
            self._store.close()
            self._store = None

    # state -----------------------------------------------------------------------------------

    def _open_store(self) -> Snapshot | None:
        if self.state_path is None:
            return None
        store = SimStore(self.state_path)
        try:
            store.open()
            snapshot = store.load()
        except (StoreError, OSError) as error:
            store.close()
            raise SimStartError(str(error)) from None
        self._store = store
        return snapshot

    def _new_exchange(self) -> Exchange:
        exchange = Exchange(clock=self.clock, seed=self.seed)
        self.demo_account_id = exchange.create_account(dict(DEMO_BALANCES), name="demo")
        self.api_key = self._wanted_key or self.api_key or generate_key()
        self.api_secret = self._wanted_secret or self.api_secret or generate_key()
        exchange.register_key(self.demo_account_id, self.api_key, hmac_secret=self.api_secret)
        return exchange

    def _restore_server_state(self, exchange: Exchange, server: dict[str, Any]) -> None:
        self.demo_account_id = int(server["demo_account_id"])
        self.api_key = str(server["api_key"])
        self.clock.offset_ms = int(server.get("clock_skew_ms", 0))
        self._limits = LimitConfig(**server.get("limits", {}))
        if self._wanted_key is not None and self._wanted_key != self.api_key:
            # A key asked for on the command line that this state does not know yet.
            self.api_key = self._wanted_key
            if exchange.key(self.api_key) is None:
                exchange.register_key(
                    self.demo_account_id,
                    self.api_key,
                    hmac_secret=self._wanted_secret or generate_key(),
                )
        record = exchange.key(self.api_key)
        if record is None or record.hmac_secret is None:
            raise SimStartError(f"{self.state_path}: the demo key is missing from the state")
        self.api_secret = record.hmac_secret

    def _server_state(self) -> dict[str, Any]:
        limits = self._ctx.limiter.config if self._ctx is not None else self._limits
        return {
            "demo_account_id": self.demo_account_id,
            "api_key": self.api_key,
            "clock_skew_ms": self.clock.offset_ms,
            "limits": limits.to_json(),
        }

    def _take_changes(self) -> Snapshot:
        """What changed since the last write (the whole state after a reset)."""
        return Snapshot(exchange=self.exchange.state_delta(), server=self._server_state())

    async def flush_state(self) -> None:
        """Write what changed to the state file now (tests; a no-op without a file)."""
        if self._flusher is not None:
            await self._flusher.flush_now()

    def _mark_dirty(self) -> None:
        if self._flusher is not None:
            self._flusher.mark_dirty()

    def _reset(self) -> None:
        """A fresh exchange from the seed, with the demo account and its key as before."""
        self.ctx.replace_exchange(self._new_exchange())

    async def _advance(self) -> None:
        """Move the price path with real time."""
        while True:
            await asyncio.sleep(ADVANCE_INTERVAL_S)
            try:
                self.exchange.advance_to(self.clock.now_ms())
            except Exception:
                log.exception("advancing the market failed")
            if self._flusher is not None:
                # Fills of resting orders are written promptly, price moves alone lazily.
                self._flusher.mark_dirty(urgent=self.exchange.has_record_changes())


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a sim background task stopped", exc_info=task.exception())
