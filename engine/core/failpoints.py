"""Named crash points: armed through `SPOTDESK_FAILPOINT`, the engine process SIGKILLs itself at
one named step of the order pipeline, so tests can prove a restart loses and repeats nothing.

Arming: `SPOTDESK_FAILPOINT=<name>` dies at the first hit, `<name>@<n>` at the n-th (n >= 1).
`engine run` (the engine's process, `engine/service/process.py`) reads the variable once at
start (`arm_from_environment`), in SIM mode only (elsewhere it is ignored); nothing else arms,
so the CLI, the desk and in-process tests never die. An unknown name or a bad count refuses to
start the engine: a typo must not make a crash test pass without crashing. The kill is `SIGKILL`
to the process itself: no journal flush, no `finally`, no buffered output (one line goes to
stderr with `os.write` first, to say why).

The points, in the order an order meets them:

- `after_intent_commit`: `engine/service/orders.py` `OrderCommands.place`, right after the
  intent row and the id counter are committed (R1), before the book records the order.
- `after_mark_sending_commit`: same method, after the book's PENDING_NEW record (queued to the
  journal's group commit, which may or may not have run) and the in-flight mark, just before the
  create request is built. This engine has no separate "sending" commit: a restart sees the
  intent with or without its PENDING_NEW row and treats both alike (`restore.py`).
- `after_http_write_before_response`: `POST /api/v3/order`, via an aiohttp trace hook
  (`engine/venue/client.py` `build_client`): `on_request_chunk_sent` fires just before the
  request body is handed to the socket; the kill is scheduled for the event loop's next pass, so
  it lands once headers and body are in the kernel and before any byte of the answer is read.
- `after_response_before_commit`: `orders.py` `OrderCommands._send`, the create's answer parsed,
  before it is folded into the book (nothing of it recorded).
- `after_fill_event_before_commit`: `engine/service/pipeline.py` `Pipeline._book_fill`, a fill
  (from the REST answer, the user stream or a query) applied to its order in memory and queued
  for the journal, before the commit and before the ledger books it.
- `mid_reconcile`: `engine/service/reconcile.py` `Reconciler.run`, balances and open orders
  folded in, before the trades. The start-up reconciliation is the first hit.
- `during_cancel`: `engine/service/cancels.py` `CancelCommands._cancel_one`, the order marked
  cancel-requested, before the cancel request is built.
- `cancel_after_http_write`: `DELETE /api/v3/order`, the same trace hook as the create's.
- `cancel_after_response_before_commit`: `cancels.py` `_cancel_one`, the cancel's answer parsed,
  before it is folded into the book.
- `emergency_stop_phase`: `engine/service/emergency.py` `EmergencyStop._phase`, as a phase is
  announced: @1 the halt is journaled, @2 before the first cancel-all, @3 after the cancel-alls
  and the listing that verifies them; then further rounds, flatten, check and done, in order.

Registry: the armed point lives in one process-wide `Failpoints` object (module-private, set only
through `arm`/`arm_from_environment`/`disarm`). It is module state on purpose: the points sit
in code owned by many modules, and threading an object through every constructor between the
process and those lines would cost more than this one documented registry. A disarmed `hit`
is one global read and one string comparison.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

ENV_VAR = "SPOTDESK_FAILPOINT"

NAMES = frozenset(
    {
        "after_intent_commit",
        "after_mark_sending_commit",
        "after_http_write_before_response",
        "after_response_before_commit",
        "after_fill_event_before_commit",
        "mid_reconcile",
        "during_cancel",
        "cancel_after_http_write",
        "cancel_after_response_before_commit",
        "emergency_stop_phase",
    }
)

# The points that sit on the wire: (HTTP method, path) of the request whose write they follow.
HTTP_POINTS: Mapping[str, tuple[str, str]] = {
    "after_http_write_before_response": ("POST", "/api/v3/order"),
    "cancel_after_http_write": ("DELETE", "/api/v3/order"),
}


@dataclass(frozen=True)
class Armed:
    """Which point kills, and at which of its hits (1 = the first)."""

    name: str
    at: int = 1

    @classmethod
    def parse(cls, spec: str) -> Armed:
        """`name` or `name@n`; ValueError names what is wrong."""
        name, _, count = spec.strip().partition("@")
        if name not in NAMES:
            raise ValueError(
                f"{ENV_VAR}: unknown failpoint {name[:60]!r}; known: {', '.join(sorted(NAMES))}"
            )
        if not count:
            return cls(name)
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"{ENV_VAR}: the hit count must be a whole number >= 1: {spec!r}")
        return cls(name, int(count))


class Failpoints:
    """The armed point (or none) and how often it was hit so far."""

    def __init__(self, armed: Armed | None = None) -> None:
        self.armed = armed
        # Read on every hit: the armed name, or None (compared without touching `armed`).
        self.name = armed.name if armed is not None else None
        self.hits = 0

    def hit(self, name: str, *, defer: bool = False) -> None:
        """Count a hit of the armed point; die at the armed count (on the loop's next pass
        when `defer`, so the current step's synchronous work, e.g. a socket write, finishes)."""
        if name != self.name:
            return
        assert self.armed is not None
        self.hits += 1
        if self.hits != self.armed.at:
            return
        if defer:
            asyncio.get_running_loop().call_soon(_die, name, self.hits)
        else:
            _die(name, self.hits)

    def session_params(self, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """aiohttp session parameters plus the trace hook of an armed wire point (unchanged,
        without any hook, when none is armed: requests pay nothing)."""
        name = self.name
        if name is None or name not in HTTP_POINTS:
            return None if params is None else dict(params)
        import aiohttp  # only an engine armed on the wire needs it here

        method, path = HTTP_POINTS[name]

        async def chunk_sent(
            _session: aiohttp.ClientSession,
            _context: SimpleNamespace,
            sent: aiohttp.TraceRequestChunkSentParams,
        ) -> None:
            if sent.method == method and sent.url.path == path:
                self.hit(name, defer=True)

        trace = aiohttp.TraceConfig()
        trace.on_request_chunk_sent.append(chunk_sent)
        merged = dict(params or {})
        merged["trace_configs"] = [*merged.get("trace_configs", ()), trace]
        return merged


def _die(name: str, count: int) -> None:
    os.write(2, f"failpoint {name}@{count} hit: SIGKILL\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)


_registry = Failpoints()


def arm(armed: Armed | None) -> None:
    """Arm one point (None disarms); the hit count starts again at zero."""
    global _registry
    _registry = Failpoints(armed)


def disarm() -> None:
    arm(None)


def arm_from_environment(environ: Mapping[str, str]) -> Armed | None:
    """Arm what `SPOTDESK_FAILPOINT` names (disarm when unset or empty); ValueError if bad."""
    spec = environ.get(ENV_VAR, "").strip()
    armed = Armed.parse(spec) if spec else None
    arm(armed)
    return armed


def armed() -> Armed | None:
    return _registry.armed


def hit(name: str) -> None:
    """A crash point was reached: dies here when it is armed and this is its armed hit."""
    if name == _registry.name:
        _registry.hit(name)


def session_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """See `Failpoints.session_params` (for the venue client's aiohttp session)."""
    return _registry.session_params(params)
