"""What every part of the wire server shares: the exchange, its clock, limits, faults, hubs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.sim.core.clock import SkewedClock
from engine.sim.core.exchange import Exchange
from engine.sim.server.auth import Authenticator, KeyRecord
from engine.sim.server.faults import FaultBook
from engine.sim.server.markets import MarketHub
from engine.sim.server.ratelimit import RateLimiter
from engine.sim.server.userstream import UserStreamHub


@dataclass
class SimContext:
    """The server's state around one exchange; `replace_exchange` swaps it (admin reset)."""

    exchange: Exchange
    clock: SkewedClock
    limiter: RateLimiter
    faults: FaultBook = field(default_factory=FaultBook)
    mark_dirty: Callable[[], None] = lambda: None
    users: UserStreamHub = field(init=False)
    markets: MarketHub = field(init=False)
    auth: Authenticator = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserStreamHub(self.exchange, self.clock)
        self.markets = MarketHub(self.exchange)
        self.auth = Authenticator(self._key, self.clock)

    def _key(self, api_key: str) -> KeyRecord | None:
        return self.exchange.key(api_key)

    def replace_exchange(self, exchange: Exchange) -> None:
        """Point every part at a new exchange, keeping open connections and subscriptions."""
        self.exchange = exchange
        self.users.attach(exchange)
        self.markets.attach(exchange)
