"""`spotdesk check [--json] [--live]`: the preflight checklist, one verdict per line, and an exit
code (0 when no line fails, 3 when one does)."""

from __future__ import annotations

import argparse
import json
import pathlib

from engine.commands.exitcodes import EPILOG, EXIT_OK, EXIT_REFUSED
from engine.commands.session import complain, execute, say
from engine.config import Mode, Settings
from engine.preflight.report import PreflightReport
from engine.venue.endpoints import endpoints_for

DESCRIPTION = """\
Check what trading needs, one line each: ok, warn (worth knowing; trading may go on) or fail
(no trading until fixed), with a short reason.
  files            .env, the key file, the data directory and journal private to this user
  journal          intact (quick_check) and bound to this mode and account
  keys             the exchange accepts the key; the account may trade
  key_permissions  /sapi/v1/account/apiRestrictions: LIVE refuses withdrawals, internal or
                   universal transfer, margin, futures or no IP restriction unless accepted in
                   SPOTDESK_PREFLIGHT__ACCEPT_KEY_RISKS (the testnet has no /sapi: it says so)
  clock            offset to the exchange within SPOTDESK_PREFLIGHT__MAX_CLOCK_OFFSET_MS
  symbols          the symbols to trade are TRADING, filters loaded
  user_stream      the user data stream subscribes
It only reads: nothing is placed, changed or cancelled. The running engine runs the same checks
at start, on arm and every SPOTDESK_PREFLIGHT__INTERVAL_S, and stays HALTED while one fails.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="preflight: keys and their permissions, clock, symbols, stream, journal, files",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the checklist as JSON")
    parser.add_argument(
        "--live",
        action="store_true",
        help="in LIVE mode, let the check read the live account on Binance (required there)",
    )
    parser.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    # Imported here: they bring python-binance, which the desk's own start never needs.
    from engine.preflight.standalone import run_checks
    from engine.service.control_sim import ensure_embedded_exchange

    async def work(settings: Settings) -> int:
        if settings.mode is Mode.LIVE and not args.live:
            complain(
                "LIVE mode: add --live to let the check read your live account on Binance "
                "(it places, changes and cancels nothing)"
            )
            return EXIT_REFUSED
        if settings.mode is Mode.SIM and settings.sim_url is None:
            settings = (await ensure_embedded_exchange(settings)).settings
        report = await run_checks(settings, cwd=pathlib.Path.cwd())
        exchange = endpoints_for(settings.mode, settings.sim_url).rest_url.removesuffix("/api")
        if args.json:
            say(json.dumps(_json(report, settings, exchange), indent=2))
        else:
            say(render(report, settings, exchange))
        return EXIT_OK if report.passed else EXIT_REFUSED

    return execute(work)


def render(report: PreflightReport, settings: Settings, exchange: str) -> str:
    """The checklist for a person: a heading, one line per check, the verdict."""
    lines = [
        f"spotdesk check: mode {settings.mode.value}, account {settings.account}, "
        f"exchange {exchange}"
    ]
    lines += [result.line() for result in report.results]
    lines.append(f"spotdesk check: {report.summary()}")
    return "\n".join(lines)


def _json(report: PreflightReport, settings: Settings, exchange: str) -> dict[str, object]:
    return {
        "mode": settings.mode.value,
        "account": settings.account,
        "exchange": exchange,
        "summary": report.summary(),
        **report.to_json(),
    }
