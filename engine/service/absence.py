"""The proof-of-absence policy for a create whose outcome is unknown (RELIABILITY.md section 0).

"Not found" (-2013) does not prove an order is absent: the exchange answers it for orders it
accepted moments ago, and a request still in flight can reach the matching engine until the
exchange's clock passes its timestamp plus recvWindow. An unanswered create therefore goes on
the watch list with the exchange time T its request carried at the latest and its recvWindow W,
and is declared PRESUMED_ABSENT only when all of these hold:

- the exchange's clock is past T + max(W, the API's processing timeout) + a margin;
- at least K consecutive queries by client order id answered -2013, the last one after that;
- the symbol's open orders and its latest orders (allOrders) do not list the id;
- the exchange's balances of the symbol's two assets equal what the ledger held when the
  order went UNKNOWN (no unexplained change). A change blocks the presumption for the
  visibility grace (an order hidden by the exchange's query lag shows up meanwhile); then the
  balances seen become the new baseline and the K answers are counted afresh.

A presumed-absent order stays UNKNOWN (outside the forward order of states, so a late arrival is
still adopted) and on the watch list, journaled, for `keep_s` (24 h); it is queried at every
reconciliation. Nothing is ever resent: a replacement is a new order with a new id, placed by
the operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.reports import OrderStatusReport
from engine.ledger import Ledger
from engine.venue.client import RECV_WINDOW_MS

WATCH_KEY = "watch_list"
ZERO = Decimal(0)


@dataclass(frozen=True)
class AbsencePolicy:
    """The thresholds of the policy. Production keeps the defaults; tests shrink them so that
    no test waits ten seconds.

    api_timeout_s: Binance's own processing timeout for a request (rest-api.md: 10 s).
    margin_s: added to the later of recvWindow and the processing timeout.
    not_found_needed: K, consecutive -2013 answers needed (the last after the deadline).
    query_interval_s: the wait between the queries that complete those K answers.
    recv_window_s: the recvWindow to assume; None uses the request's own (the venue's 5 s).
    keep_s: how long a presumed-absent order stays watched before it is closed as REJECTED.
    orders_window: how many of the symbol's latest orders (allOrders) are searched for the id.
    visibility_grace_s: an acknowledged order younger than this that a query does not find is
      taken as not visible yet (the exchange's query lag, E8), not as a reconciliation problem.
    """

    api_timeout_s: float = 10.0
    margin_s: float = 2.0
    not_found_needed: int = 3
    query_interval_s: float = 1.0
    recv_window_s: float | None = None
    keep_s: float = 24 * 3600.0
    orders_window: int = 100
    visibility_grace_s: float = 60.0

    def __post_init__(self) -> None:
        if self.not_found_needed < 1:
            raise ValueError("not_found_needed must be at least 1")
        if min(self.api_timeout_s, self.margin_s, self.query_interval_s, self.keep_s) < 0:
            raise ValueError("absence thresholds must not be negative")

    def window_ms(self, request_window_ms: int | None) -> int:
        if self.recv_window_s is not None:
            return int(self.recv_window_s * 1000)
        return RECV_WINDOW_MS if request_window_ms is None else request_window_ms

    def deadline_ms(self, entry: WatchEntry) -> int:
        """The exchange time after which the request can no longer be executed."""
        wait_ms = max(entry.window_ms, int(self.api_timeout_s * 1000)) + int(self.margin_s * 1000)
        return entry.sent_ms + wait_ms


@dataclass(frozen=True)
class WatchEntry:
    """One order on the watch list.

    sent_ms: the exchange time its create request carried, at the latest (T).
    window_ms: the recvWindow that request used (W).
    since: when it joined the list (local wall clock).
    not_found: consecutive -2013 answers; last_not_found_ms: exchange time of the last one.
    baseline: the ledger's (free, locked) of the symbol's base and quote assets at that time.
    rebaseline_at: set while a balance change blocks the presumption: when to take a new
      baseline.
    presumed_absent_at: when the policy declared it absent; evidence: the facts it relied on,
    or what keeps it from being presumed absent.
    """

    client_order_id: str
    symbol: str
    sent_ms: int
    window_ms: int
    since: datetime
    baseline: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    not_found: int = 0
    last_not_found_ms: int | None = None
    rebaseline_at: datetime | None = None
    presumed_absent_at: datetime | None = None
    evidence: str = ""

    @property
    def presumed_absent(self) -> bool:
        return self.presumed_absent_at is not None

    def counted_not_found(self, server_ms: int) -> WatchEntry:
        return replace(self, not_found=self.not_found + 1, last_not_found_ms=server_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "sent_ms": self.sent_ms,
            "window_ms": self.window_ms,
            "since": self.since.isoformat(),
            "baseline": {a: [str(f), str(k)] for a, (f, k) in sorted(self.baseline.items())},
            "not_found": self.not_found,
            "last_not_found_ms": self.last_not_found_ms,
            "rebaseline_at": _time(self.rebaseline_at),
            "presumed_absent_at": _time(self.presumed_absent_at),
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> WatchEntry:
        last = raw.get("last_not_found_ms")
        return cls(
            client_order_id=str(raw["client_order_id"]),
            symbol=str(raw["symbol"]),
            sent_ms=int(raw["sent_ms"]),
            window_ms=int(raw["window_ms"]),
            since=datetime.fromisoformat(str(raw["since"])),
            baseline={
                str(a): (Decimal(str(pair[0])), Decimal(str(pair[1])))
                for a, pair in dict(raw.get("baseline") or {}).items()
            },
            not_found=int(raw.get("not_found", 0)),
            last_not_found_ms=None if last is None else int(last),
            rebaseline_at=_parse_time(raw.get("rebaseline_at")),
            presumed_absent_at=_parse_time(raw.get("presumed_absent_at")),
            evidence=str(raw.get("evidence", "")),
        )


def _amount(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_time(raw: object) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(str(raw))


def watch_from_state(raw: object) -> dict[str, WatchEntry]:
    """The watch list as journaled under WATCH_KEY (absent: empty)."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ValueError(f"journal state {WATCH_KEY!r} is not a list")
    entries = [WatchEntry.from_json(item) for item in raw]
    return {entry.client_order_id: entry for entry in entries}


def listed(cid: str, reports: list[OrderStatusReport]) -> OrderStatusReport | None:
    """The report about `cid` in a list of orders, if any."""
    return next((r for r in reports if r.order_client_id == cid), None)


def held(ledger: Ledger, assets: tuple[str, ...]) -> dict[str, tuple[Decimal, Decimal]]:
    """The ledger's (free, locked) of `assets` (zero when it has none)."""
    found = {}
    for asset in assets:
        balance = ledger.balances.get(asset)
        found[asset] = (ZERO, ZERO) if balance is None else (balance.free, balance.locked)
    return found


def balance_changes(
    baseline: Mapping[str, tuple[Decimal, Decimal]],
    exchange: Mapping[str, tuple[Decimal, Decimal]],
) -> list[str]:
    """The baseline's assets whose (free, locked) at the exchange differ from it, as text."""
    zero = (Decimal(0), Decimal(0))
    return [
        f"{asset} {_amount(before[0])}/{_amount(before[1])} then, "
        f"{_amount(now[0])}/{_amount(now[1])} now"
        for asset, before in sorted(baseline.items())
        if (now := exchange.get(asset, zero)) != before
    ]
