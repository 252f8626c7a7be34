"""One function per line of the checklist: evidence in, a verdict with a short reason out.

The functions neither connect nor read files themselves (except `journal_line`, a blocking read
to run in a thread): `standalone` and `in_engine` gather the evidence their own way and share
these judgements, so `spotdesk check` and the engine can never disagree on a verdict.
"""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from engine.config import Mode, Settings
from engine.core.rules import SymbolRules
from engine.preflight.report import Check, CheckResult, fail, ok, warn
from engine.preflight.settings import FLAG_OF_RISK, KeyRisk
from engine.security import permissions
from engine.venue.errors import AuthError, VenueError
from engine.venue.results import AccountSnapshot, ApiRestrictions

EXPIRY_WARNING = timedelta(days=7)

T = TypeVar("T")


async def attempt(call: Awaitable[T]) -> T | VenueError:
    """The answer of one venue call, or the VenueError it failed with (evidence either way)."""
    try:
        return await call
    except VenueError as error:
        return error


@dataclass(frozen=True)
class Policy:
    """How strict the judgements are. LIVE refuses risky keys; TESTNET and LIVE refuse a clock
    beyond the bound; SIM only warns, because the embedded exchange's clock may be shifted on
    purpose and its keys are demo keys. Tests build a strict policy against the embedded one."""

    mode: Mode
    strict_key_permissions: bool
    strict_clock: bool
    max_clock_offset_ms: int
    accepted_key_risks: frozenset[KeyRisk]

    @classmethod
    def for_settings(cls, settings: Settings) -> Policy:
        return cls(
            mode=settings.mode,
            strict_key_permissions=settings.mode is Mode.LIVE,
            strict_clock=settings.mode is not Mode.SIM,
            max_clock_offset_ms=settings.preflight.max_clock_offset_ms,
            accepted_key_risks=settings.preflight.accept_key_risks,
        )

    @property
    def accepted_names(self) -> tuple[str, ...]:
        return tuple(sorted(risk.value for risk in self.accepted_key_risks))


def files_line(settings: Settings, *, cwd: pathlib.Path) -> CheckResult:
    """The permission gate's verdict (blocking: a few stats)."""
    problems = permissions.find_problems(settings, cwd=cwd)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return fail(Check.FILES, problems[0].describe() + more)
    present = [
        g.what.removeprefix("the ")
        for g in permissions.guarded_paths(settings, cwd=cwd)
        if g.path.exists()
    ]
    listed = ", ".join(present) if present else "nothing yet"
    if permissions.running_as_root():
        return warn(
            Check.FILES, f"private ({listed}), but spotdesk runs as root: LIVE refuses that"
        )
    return ok(Check.FILES, f"private to this user: {listed}")


def journal_line(path: pathlib.Path, *, mode: str, account: str) -> CheckResult:
    """quick_check and the journal's owner, read-only (blocking; a running engine may hold it)."""
    if not path.exists() or path.stat().st_size == 0:
        return ok(Check.JOURNAL, "none yet: the engine creates it at its first start")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as error:
        return fail(Check.JOURNAL, f"cannot be opened: {error}")
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            return fail(Check.JOURNAL, f"damaged: {'; '.join(problems[:3])}")
        row = None
        with contextlib.suppress(sqlite3.OperationalError):  # no meta table: never opened
            row = conn.execute("SELECT mode, account FROM meta WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as error:
        return fail(Check.JOURNAL, f"damaged or not a journal: {error}")
    finally:
        conn.close()
    if row is None:
        return ok(Check.JOURNAL, "intact; not bound to a mode and account yet")
    if (str(row[0]), str(row[1])) != (mode, account):
        return fail(
            Check.JOURNAL,
            f"belongs to mode={row[0]} account={row[1]}, not to mode={mode} account={account}",
        )
    return ok(Check.JOURNAL, f"intact (quick_check), belongs to mode={mode} account={account}")


def keys_line(found: AccountSnapshot | VenueError, *, ed25519: bool, policy: Policy) -> CheckResult:
    """Whether the exchange accepts the key for a signed read, and the account may trade."""
    if isinstance(found, AuthError):
        return fail(Check.KEYS, f"refused by the exchange: {found}")
    if isinstance(found, VenueError):
        return fail(Check.KEYS, f"not checked, the exchange did not answer: {found}")
    kind = "Ed25519" if ed25519 else "HMAC"
    if not found.can_trade:
        return fail(Check.KEYS, f"accepted ({kind}), but the account may not trade (canTrade)")
    if not ed25519 and policy.mode is Mode.LIVE:
        return warn(
            Check.KEYS,
            "accepted (HMAC); Binance deprecates HMAC keys: prefer an Ed25519 key "
            "(SPOTDESK_PRIVATE_KEY_FILE)",
        )
    return ok(Check.KEYS, f"accepted ({kind}); the account may trade")


def key_risks(restrictions: ApiRestrictions) -> tuple[KeyRisk, ...]:
    """The risky permissions this key has (a flag missing from the reply counts as granted)."""
    found: list[KeyRisk] = []
    for risk in KeyRisk:
        if risk is KeyRisk.NO_IP_RESTRICTION:
            if not restrictions.ip_restrict:
                found.append(risk)
        elif restrictions.enabled.get(FLAG_OF_RISK[risk], True):
            found.append(risk)
    return tuple(found)


def permissions_line(
    found: ApiRestrictions | VenueError | None, *, policy: Policy, now: datetime
) -> CheckResult:
    """The key's permissions from /sapi/v1/account/apiRestrictions (None: the venue has no
    /sapi, as on the testnet)."""
    line = Check.KEY_PERMISSIONS
    if found is None:
        return warn(
            line,
            "not available here (the testnet has no /sapi): check the key's permissions on "
            "the site that issued it",
        )
    if isinstance(found, VenueError):
        return fail(line, f"could not be read: {found}")
    if not found.enable_reading or not found.enable_spot_and_margin_trading:
        return fail(
            line, "the key may not read and trade spot (enableReading, enableSpotAndMarginTrading)"
        )
    expiry = found.trading_authority_expiration_time
    if expiry is not None:
        expires = datetime.fromtimestamp(expiry / 1000, tz=now.tzinfo)
        if expires <= now:
            return fail(line, f"the key's trading authority expired at {expires.isoformat()}")
    risks = key_risks(found)
    refused = [r.value for r in risks if r not in policy.accepted_key_risks]
    accepted = [r.value for r in risks if r in policy.accepted_key_risks]
    if refused:
        named = ", ".join(refused)
        if policy.strict_key_permissions:
            return fail(
                line,
                f"LIVE refuses this key: {named}. Turn that off for the key on Binance (or "
                "accept it by name in SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS)",
            )
        return warn(line, f"{named} (LIVE would refuse this key)")
    if expiry is not None and expires - now < EXPIRY_WARNING:
        return warn(line, f"the key's trading authority expires at {expires.isoformat()}")
    if accepted:
        return warn(
            line, f"accepted by SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS: {', '.join(accepted)}"
        )
    return ok(line, "spot trading and reading only; IP-restricted")


def clock_line(found: int | VenueError, *, policy: Policy) -> CheckResult:
    """The exchange's clock minus this machine's (`found`, in ms) against the bound."""
    if isinstance(found, VenueError):
        return fail(Check.CLOCK, f"the exchange's time could not be read: {found}")
    bound = policy.max_clock_offset_ms
    if abs(found) <= bound:
        return ok(Check.CLOCK, f"offset {found:+d} ms (bound {bound} ms)")
    side = "behind" if found > 0 else "ahead of"
    text = (
        f"this machine's clock is {abs(found)} ms {side} the exchange's (bound {bound} ms); "
        "check NTP (timedatectl, chronyc tracking)"
    )
    if policy.strict_clock:
        return fail(Check.CLOCK, text)
    return warn(Check.CLOCK, f"{text}; SIM only warns")


def symbols_line(
    found: Mapping[str, SymbolRules] | VenueError, *, wanted: tuple[str, ...] | None
) -> CheckResult:
    """The symbols to trade are listed and TRADING, with their filters loaded. `wanted`: the
    engine's symbols or the allowed ones; None means every symbol listed as TRADING."""
    if isinstance(found, VenueError):
        return fail(Check.SYMBOLS, f"exchangeInfo could not be read: {found}")
    trading = sorted(s for s, rules in found.items() if rules.status == "TRADING")
    names = trading if wanted is None else list(wanted)
    unknown = [s for s in names if s not in found]
    if unknown:
        return fail(Check.SYMBOLS, f"unknown to the exchange: {', '.join(unknown)}")
    if not names:
        return fail(Check.SYMBOLS, "no symbol is TRADING")
    missing = [s for s in names if found[s].price_filter is None or found[s].lot_size is None]
    if missing:
        return fail(
            Check.SYMBOLS,
            f"filters missing (PRICE_FILTER, LOT_SIZE) for {', '.join(missing[:5])}",
        )
    stopped = [f"{s} ({found[s].status})" for s in names if found[s].status != "TRADING"]
    if stopped:
        return warn(
            Check.SYMBOLS, f"not trading now, orders there are refused: {', '.join(stopped[:5])}"
        )
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return ok(Check.SYMBOLS, f"TRADING with filters loaded: {shown}")


def user_stream_line(problem: str | None, *, enforced_by_gate: bool = False) -> CheckResult:
    """Whether the user data stream subscribed (`problem` None) or why not."""
    if problem is None:
        return ok(Check.USER_STREAM, "subscribed")
    if enforced_by_gate:
        # The trading gate already holds every new order while the stream is down.
        return warn(Check.USER_STREAM, f"{problem}; new orders wait until it is back")
    return fail(Check.USER_STREAM, problem)
