"""The engine's knobs: which account and symbols, and the bounds of its background work."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.service.absence import AbsencePolicy
from engine.venue.supervisor import SupervisorConfig


@dataclass(frozen=True)
class EngineOptions:
    """mode/account: whose journal this is (one per mode and account).
    symbols: what the engine reconciles trades of, adopts holdings for and streams marks of;
      None means every TRADING symbol exchangeInfo lists (fine for the embedded exchange, too
      many for Binance itself).
    id_prefix: the prefix of every client order id this desk sends.
    settle_delays_s: waits before each query that settles an order whose create went unanswered.
    reconcile_interval_s: a periodic reconcile besides those at start and after gaps (None: off).
    start_reconcile_attempts: how often the start-up reconcile is tried before start fails.
    stream_connect_timeout_s: how long start waits for the user stream before reconciling anyway.
    mark_max_age_s: marks older than this are not used to value or check orders.
    market_data: stream marks (tests of the order path can leave them out).
    absence: the proof-of-absence thresholds for unanswered creates (`absence.py`).
    degraded_poll_s: while the user stream is not connected, reconcile (open orders, trades,
      balances over REST) this often (None: off).
    clock_sync_interval_s: re-sync the server time offset this often (None: only on -1021).
    rules_refresh_interval_s: re-read exchangeInfo (symbol status, filters) this often.
    maintenance_after_errors: 5xx answers in a row that pause new orders as maintenance.
    maintenance_backoff_s: (first, longest) wait between probes while paused.
    """

    mode: str
    account: str
    symbols: tuple[str, ...] | None = None
    id_prefix: str = "sd"
    recent_orders: int = 50
    settle_delays_s: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    reconcile_interval_s: float | None = 60.0
    reconcile_retry_s: float = 2.0
    start_reconcile_attempts: int = 3
    stream_connect_timeout_s: float = 10.0
    mark_max_age_s: float = 60.0
    market_data: bool = True
    user_stream: SupervisorConfig | None = None
    market_stream: SupervisorConfig | None = None
    trade_page: int = 1000
    absence: AbsencePolicy = field(default_factory=AbsencePolicy)
    degraded_poll_s: float | None = 5.0
    clock_sync_interval_s: float | None = 600.0
    rules_refresh_interval_s: float | None = 300.0
    maintenance_after_errors: int = 3
    maintenance_backoff_s: tuple[float, float] = (1.0, 60.0)
