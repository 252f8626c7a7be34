"""Each preflight line against the embedded exchange, through the real client, with keys of
different permissions; then `spotdesk check` itself (format, JSON, exit code, loopback only)."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from connections import install
from Crypto.PublicKey import ECC
from pydantic import SecretStr

from engine.cli import main
from engine.config import Mode, Settings
from engine.journal import Journal
from engine.preflight.checks import (
    Policy,
    journal_line,
    permissions_line,
    symbols_line,
)
from engine.preflight.report import Check, CheckResult, PreflightReport, Verdict
from engine.preflight.settings import FLAG_OF_RISK, KeyRisk, PreflightSettings
from engine.preflight.standalone import run_checks
from engine.service.profile import journal_path
from engine.sim.runner import SimServer
from engine.venue.binance import BinanceVenue
from engine.venue.endpoints import Credentials, Endpoints, endpoints_for
from engine.venue.timing import SystemClock

STRICT = Policy(  # LIVE's rules, applied to the embedded exchange
    mode=Mode.LIVE,
    strict_key_permissions=True,
    strict_clock=True,
    max_clock_offset_ms=1000,
    accepted_key_risks=frozenset(),
)
LENIENT = dataclasses.replace(
    STRICT, mode=Mode.SIM, strict_key_permissions=False, strict_clock=False
)
SAFE = {"ipRestrict": True}
SYMBOLS = "TRADING with filters loaded: BNBUSDT, BTCUSDT, ETHUSDT, SOLUSDT"


@dataclasses.dataclass(frozen=True)
class Key:
    api_key: str
    secret: str | None = None
    private_key_file: pathlib.Path | None = None


async def hmac_key(sim: SimServer, **permissions: bool) -> Key:
    account = await sim.admin.create_account({"USDT": "1000"}, name="check")
    found = await sim.admin.register_key(account, permissions=permissions)
    return Key(found["apiKey"], secret=found["secret"])


async def ed25519_key(sim: SimServer, directory: pathlib.Path, **permissions: bool) -> Key:
    private = ECC.generate(curve="ed25519")
    account = await sim.admin.create_account({"USDT": "1000"}, name="check")
    found = await sim.admin.register_key(
        account,
        ed25519_public_key_pem=private.public_key().export_key(format="PEM"),
        permissions=permissions,
    )
    path = directory / "ed25519.pem"
    path.write_text(private.export_key(format="PEM"))
    path.chmod(0o600)
    return Key(found["apiKey"], private_key_file=path)


def settings_for(sim: SimServer, key: Key, base: pathlib.Path, **changes: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode=Mode.SIM,
        data_dir=base / "data",
        sim_url=sim.url,
        api_key=SecretStr(key.api_key),
        api_secret=None if key.secret is None else SecretStr(key.secret),
        private_key_file=key.private_key_file,
        **changes,
    )


@asynccontextmanager
async def venue_for(sim: SimServer, key: Key) -> AsyncIterator[BinanceVenue]:
    assert key.secret is not None
    venue = BinanceVenue(
        endpoints_for(Mode.SIM, sim.url),
        Credentials(SecretStr(key.api_key), api_secret=SecretStr(key.secret)),
        clock=SystemClock(),
    )
    await venue.start()
    try:
        yield venue
    finally:
        await venue.close()


def verdicts(report: PreflightReport) -> dict[str, tuple[str, str]]:
    return {r.check.value: (r.verdict.value, r.reason) for r in report.results}


def _offset_ok(result: CheckResult | None) -> bool:
    return result is not None and bool(
        re.fullmatch(r"offset [+-]\d+ ms \(bound 1000 ms\)", result.reason)
    )


async def test_a_safe_ed25519_key_passes_every_line_under_live_rules(
    sim: SimServer, workdir: pathlib.Path
) -> None:
    key = await ed25519_key(sim, workdir, **SAFE)
    report = await run_checks(settings_for(sim, key, workdir), cwd=workdir, policy=STRICT)
    found = verdicts(report)
    assert _offset_ok(report.result(Check.CLOCK))
    del found["clock"]
    assert found == {
        "files": ("ok", "private to this user: private key file"),
        "journal": ("ok", "none yet: the engine creates it at its first start"),
        "keys": ("ok", "accepted (Ed25519); the account may trade"),
        "key_permissions": ("ok", "spot trading and reading only; IP-restricted"),
        "symbols": ("ok", SYMBOLS),
        "user_stream": ("ok", "subscribed"),
    }
    assert (report.passed, report.summary()) == (True, "passed")


async def test_a_refused_key_fails_the_signed_lines(sim: SimServer, workdir: pathlib.Path) -> None:
    key = await hmac_key(sim, **SAFE)
    wrong = dataclasses.replace(key, secret="not-" + str(key.secret))
    quick = PreflightSettings(user_stream_timeout_s=1.0)
    report = await run_checks(
        settings_for(sim, wrong, workdir, preflight=quick), cwd=workdir, policy=STRICT
    )
    found = verdicts(report)
    assert found["keys"][0] == found["key_permissions"][0] == found["user_stream"][0] == "fail"
    assert found["keys"][1].startswith("refused by the exchange: ")
    assert found["key_permissions"][1].startswith("could not be read: ")
    assert found["user_stream"][1].startswith("did not subscribe")
    assert (found["symbols"], report.summary()) == (("ok", SYMBOLS), "failed: 3 of 7 checks")


async def test_an_hmac_key_only_warns_in_live(sim: SimServer, workdir: pathlib.Path) -> None:
    key = await hmac_key(sim, **SAFE)
    report = await run_checks(settings_for(sim, key, workdir), cwd=workdir, policy=STRICT)
    assert verdicts(report)["keys"] == (
        "warn",
        "accepted (HMAC); Binance deprecates HMAC keys: prefer an Ed25519 key "
        "(SPOTDESK_PRIVATE_KEY_FILE)",
    )
    assert report.passed


@pytest.mark.parametrize("risk", list(KeyRisk))
async def test_each_risky_permission_fails_live_warns_elsewhere_and_can_be_accepted(
    sim: SimServer, risk: KeyRisk
) -> None:
    flag = FLAG_OF_RISK[risk]
    flags = {"ipRestrict": False} if risk is KeyRisk.NO_IP_RESTRICTION else {**SAFE, flag: True}
    key = await hmac_key(sim, **flags)
    accepted = dataclasses.replace(STRICT, accepted_key_risks=frozenset({risk}))
    async with venue_for(sim, key) as venue:
        restrictions = await venue.api_restrictions()
    now = SystemClock().now()
    lines = [permissions_line(restrictions, policy=p, now=now) for p in (STRICT, LENIENT, accepted)]
    assert [(line.verdict, line.reason) for line in lines] == [
        (
            Verdict.FAIL,
            f"LIVE refuses this key: {risk.value}. Turn that off for the key on Binance (or "
            "accept it by name in SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS)",
        ),
        (Verdict.WARN, f"{risk.value} (LIVE would refuse this key)"),
        (Verdict.WARN, f"accepted by SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS: {risk.value}"),
    ]


async def test_a_key_that_may_not_trade_fails_in_every_mode_until_fixed(
    sim: SimServer,
) -> None:
    key = await hmac_key(sim, enableSpotAndMarginTrading=False, **SAFE)
    now = SystemClock().now()
    async with venue_for(sim, key) as venue:
        before = permissions_line(await venue.api_restrictions(), policy=LENIENT, now=now)
        await sim.admin.call(
            "POST",
            "key_permissions",
            {"apiKey": key.api_key, "permissions": {"enableSpotAndMarginTrading": True}},
        )
        after = permissions_line(await venue.api_restrictions(), policy=STRICT, now=now)
    assert (before.verdict, before.reason) == (
        Verdict.FAIL,
        "the key may not read and trade spot (enableReading, enableSpotAndMarginTrading)",
    )
    assert (after.verdict, after.reason) == (
        Verdict.OK,
        "spot trading and reading only; IP-restricted",
    )


async def test_the_testnet_has_no_sapi_and_the_line_says_so(
    sim: SimServer, workdir: pathlib.Path
) -> None:
    """A testnet rehearsal on the embedded exchange: its endpoints without /sapi, testnet rules
    (a strict clock, lenient key permissions)."""
    key = await hmac_key(sim, **SAFE)
    sim_endpoints = endpoints_for(Mode.SIM, sim.url)
    testnet_like = Endpoints(
        mode=Mode.TESTNET,
        rest_url=sim_endpoints.rest_url,
        sapi_url=None,
        ws_api_url=sim_endpoints.ws_api_url,
        stream_url=sim_endpoints.stream_url,
    )
    policy = dataclasses.replace(LENIENT, mode=Mode.TESTNET, strict_clock=True)
    report = await run_checks(
        settings_for(sim, key, workdir), cwd=workdir, policy=policy, endpoints=testnet_like
    )
    assert verdicts(report)["key_permissions"] == (
        "warn",
        "not available here (the testnet has no /sapi): check the key's permissions on the "
        "site that issued it",
    )
    assert report.passed


async def test_a_clock_beyond_the_bound_fails_where_it_is_strict(
    sim: SimServer, workdir: pathlib.Path
) -> None:
    key = await hmac_key(sim, **SAFE)
    await sim.admin.skew_clock(5000)
    settings = settings_for(sim, key, workdir)
    strict = (await run_checks(settings, cwd=workdir, policy=STRICT)).result(Check.CLOCK)
    lenient = (await run_checks(settings, cwd=workdir, policy=LENIENT)).result(Check.CLOCK)
    pattern = (
        r"this machine's clock is (49|50)\d\d ms behind the exchange's \(bound 1000 ms\); "
        r"check NTP \(timedatectl, chronyc tracking\)"
    )
    assert strict is not None and strict.verdict is Verdict.FAIL
    assert re.fullmatch(pattern, strict.reason)
    assert lenient is not None and lenient.verdict is Verdict.WARN
    assert re.fullmatch(pattern + "; SIM only warns", lenient.reason)


async def test_symbols_unknown_halted_or_without_filters(sim: SimServer) -> None:
    key = await hmac_key(sim, **SAFE)
    async with venue_for(sim, key) as venue:
        rules = dict((await venue.exchange_info()).symbols)
    unknown = symbols_line(rules, wanted=("BTCUSDT", "XYZUSDT"))
    rules["ETHUSDT"] = dataclasses.replace(rules["ETHUSDT"], status="BREAK")
    halted = symbols_line(rules, wanted=("BTCUSDT", "ETHUSDT"))
    rules["BTCUSDT"] = dataclasses.replace(rules["BTCUSDT"], lot_size=None)
    bare = symbols_line(rules, wanted=("BTCUSDT",))
    nothing = symbols_line({}, wanted=None)
    assert [(r.verdict, r.reason) for r in (unknown, halted, bare, nothing)] == [
        (Verdict.FAIL, "unknown to the exchange: XYZUSDT"),
        (Verdict.WARN, "not trading now, orders there are refused: ETHUSDT (BREAK)"),
        (Verdict.FAIL, "filters missing (PRICE_FILTER, LOT_SIZE) for BTCUSDT"),
        (Verdict.FAIL, "no symbol is TRADING"),
    ]


async def test_the_journal_line(workdir: pathlib.Path) -> None:
    path = workdir / "j" / "journal.sqlite"
    journal = await Journal.open(path, mode="sim", account="default", clock=SystemClock().now)
    try:  # a running engine holds it: the check reads beside it
        mine = journal_line(path, mode="sim", account="default")
        other = journal_line(path, mode="live", account="default")
    finally:
        await journal.close()
    broken = workdir / "broken.sqlite"
    broken.write_bytes(b"not a journal at all" * 300)
    damaged = journal_line(broken, mode="sim", account="default")
    assert [(r.verdict, r.reason) for r in (mine, other)] == [
        (Verdict.OK, "intact (quick_check), belongs to mode=sim account=default"),
        (
            Verdict.FAIL,
            "belongs to mode=sim account=default, not to mode=live account=default",
        ),
    ]
    assert damaged.verdict is Verdict.FAIL
    assert damaged.reason.startswith("damaged or not a journal: ")


async def test_spotdesk_check_against_the_embedded_exchange(
    sim: SimServer,
    workdir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = await hmac_key(sim, **SAFE)
    settings = settings_for(sim, key, workdir)
    journal = await Journal.open(
        journal_path(settings, "default"), mode="sim", account="default", clock=SystemClock().now
    )
    await journal.close()
    for name, value in {
        "SPOTDESK_SIM_URL": sim.url,
        "SPOTDESK_DATA_DIR": str(workdir / "data"),
        "SPOTDESK_API_KEY": key.api_key,
        "SPOTDESK_API_SECRET": str(key.secret),
    }.items():
        monkeypatch.setenv(name, value)
    connections = install(monkeypatch)

    code = await _in_thread(["check"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == f"spotdesk check: mode sim, account default, exchange {sim.url}"
    assert lines[1:5] == [
        "  ok    files            private to this user: data directory, engine's directory, "
        "journal",
        "  ok    journal          intact (quick_check), belongs to mode=sim account=default",
        "  ok    keys             accepted (HMAC); the account may trade",
        "  ok    key_permissions  spot trading and reading only; IP-restricted",
    ]
    assert re.fullmatch(r"  ok    clock            offset [+-]\d+ ms \(bound 1000 ms\)", lines[5])
    assert lines[6:] == [
        f"  ok    symbols          {SYMBOLS}",
        "  ok    user_stream      subscribed",
        "spotdesk check: passed",
    ]

    (workdir / "data").chmod(0o755)
    code = await _in_thread(["check", "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 3
    assert (body["passed"], body["summary"], body["mode"]) == (
        False,
        "failed: 1 of 7 checks",
        "sim",
    )
    assert body["checks"][0] == {
        "name": "files",
        "verdict": "fail",
        "reason": f"the data directory {workdir / 'data'} is open to group or others (mode 755)"
        f"; run: chmod 700 {workdir / 'data'}",
    }
    assert [c["name"] for c in body["checks"]] == [c.value for c in Check]
    assert connections.remote == set()  # loopback only


async def _in_thread(argv: list[str]) -> int:
    """`main(argv)` runs its own event loop: give it a thread (the sim serves on this one)."""
    import asyncio

    return await asyncio.to_thread(main, argv)
