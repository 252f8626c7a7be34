"""The `spotdesk` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pathlib
import signal
import sys
import textwrap
from collections.abc import Callable, Sequence
from decimal import Decimal

from engine.commands import register as register_engine_commands
from engine.commands.exitcodes import EPILOG
from engine.commands.session import load_settings
from engine.config import Settings, SimSettings, default_data_dir
from engine.logs import start_command_logging
from engine.security.permissions import use_private_umask

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

DeskRunner = Callable[[Settings], int]

DEFAULT_SIM_PORT: int = SimSettings.model_fields["port"].default


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 0 and 65535, not {value}")
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, without breaking words such as "python-binance" at the hyphen."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # A line indented by one or two spaces (a row of the exit-code table) starts a new
        # paragraph; unindented or deeper-indented lines continue the one before.
        paragraphs: list[str] = []
        for line in text.strip("\n").splitlines():
            indent_width = len(line) - len(line.lstrip())
            if 0 < indent_width <= 2 or not paragraphs:
                paragraphs.append(line)
            else:
                paragraphs[-1] += " " + line
        return "\n".join(
            textwrap.fill(
                " ".join(p.split()),
                width,
                initial_indent=indent + (" " * (len(p) - len(p.lstrip()))),
                subsequent_indent=indent + ("     " if p.startswith(" ") else ""),
                break_on_hyphens=False,
            )
            for p in paragraphs
        )


def _replay(text: str) -> tuple[str, list[Decimal]]:
    from engine.sim.core.market import parse_price_csv

    symbol, sep, name = text.partition("=")
    if not sep or not symbol or not name:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=FILE, not {text!r}")
    try:
        prices = parse_price_csv(pathlib.Path(name).read_text(encoding="utf-8"))
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot read {name}: {error.strerror}") from None
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{name}: {error}") from None
    if not prices:
        raise argparse.ArgumentTypeError(f"{name}: no prices in it")
    return symbol.upper(), prices


def build_parser(desk: DeskRunner | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spotdesk",
        formatter_class=_HelpFormatter,
        description="An operator desk for trading on Binance Spot, with an embedded "
        "Binance-compatible exchange for rehearsal. Without a command, spotdesk opens the "
        "desk (like 'spotdesk desk'). Settings come from SPOTDESK_* environment variables and "
        "from a .env file in the working directory (the environment wins); 'spotdesk config' "
        "shows them.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log at DEBUG level into the log file (logs/ in the engine's directory); "
        "secrets are masked at every level",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = commands.add_parser(
        "sim",
        formatter_class=_HelpFormatter,
        help="run the embedded Binance Spot exchange",
        description="Run the embedded Binance Spot exchange until Ctrl-C or SIGTERM. It speaks "
        "Binance's REST API, WebSocket API and market streams on one port, so python-binance "
        "and other Binance clients can trade against it; its state survives restarts.",
    )
    add_sim_arguments(sim)
    sim.set_defaults(run=_run_sim)
    desk_parser = commands.add_parser(
        "desk",
        formatter_class=_HelpFormatter,
        help="the operator desk (the default)",
        description="Open the desk: attach to the engine of the configured mode and account, "
        "starting it when none answers (in SIM mode it starts the embedded exchange too). "
        "Quitting asks whether to leave the engine running.",
    )
    desk_parser.set_defaults(run=lambda args: _run_desk(desk))
    register_engine_commands(commands)
    return parser


def _run_desk(desk: DeskRunner | None) -> int:
    if desk is None:
        print(
            "spotdesk: the desk is not part of this entry point; run 'spotdesk desk'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = load_settings()  # errors told without the values given
    return EXIT_USAGE if settings is None else desk(settings)


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s); the admin API always answers "
        "loopback clients only",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_SIM_PORT,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the price paths of a new exchange (default: %(default)s); a restored "
        "state keeps its own",
    )
    parser.add_argument(
        "--state",
        type=pathlib.Path,
        default=None,
        metavar="FILE",
        help="SQLite file holding the exchange's state (default: sim.sqlite in the spotdesk "
        "data directory, $XDG_DATA_HOME/spotdesk or ~/.local/share/spotdesk)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="API key of the demo account (default: generated on the first start, then kept)",
    )
    parser.add_argument(
        "--api-secret",
        default=None,
        help="HMAC secret of that key (default: generated with the key); other users can "
        "read a command line, so prefer --credentials",
    )
    parser.add_argument(
        "--credentials",
        type=pathlib.Path,
        default=None,
        metavar="FILE",
        help="read the demo key and secret from FILE (JSON with api_key and api_secret, "
        "mode 0600) instead; the banner then does not print them",
    )
    parser.add_argument(
        "--replay",
        action="append",
        default=[],
        type=_replay,
        metavar="SYMBOL=FILE",
        help="replay a CSV price series for SYMBOL instead of its random path, one row per "
        "second (rows 'timestamp_ms,price' or one price per line; the last price holds once "
        "the series ends); may be repeated",
    )
    parser.add_argument(
        "--frozen-market",
        action="store_true",
        help="keep prices still unless moved through the admin API",
    )


def _banner(sim: object, state: pathlib.Path, credentials: pathlib.Path | None = None) -> str:
    from engine.sim.runner import SimServer

    assert isinstance(sim, SimServer)
    key_lines = (
        [f"  API key        {sim.api_key}", f"  API secret     {sim.api_secret}"]
        if credentials is None
        else [f"  API key and secret in {credentials}"]  # never copied into a log
    )
    return "\n".join(
        [
            "spotdesk sim: the embedded Binance Spot exchange is running.",
            f"  REST           {sim.url}/api/v3/  (and {sim.url}/sapi/v1/)",
            f"  WebSocket API  {sim.ws_api_url}",
            f"  Streams        {sim.stream_url}ws/<stream>  {sim.stream_url}stream?streams=a/b",
            f"  Admin          {sim.url}/_sim/  (loopback clients only)",
            f"  State          {state}",
            "",
            f"Demo account {sim.demo_account_id}:",
            *key_lines,
            "",
            "With python-binance 1.0.37:",
            "  from binance import AsyncClient, BinanceSocketManager",
            "  Sim = type('Sim', (AsyncClient,), {",
            f"      'API_URL': '{sim.url}/api',",
            f"      'MARGIN_API_URL': '{sim.url}/sapi',",
            f"      'WS_API_URL': '{sim.ws_api_url}'}})",
            "  client = await Sim.create(API_KEY, API_SECRET)",
            "  sockets = BinanceSocketManager(client)",
            f"  sockets.STREAM_URL = '{sim.stream_url}'",
            "",
            "Press Ctrl-C to stop.",
        ]
    )


async def run_sim(args: argparse.Namespace) -> int:
    from engine.sim.runner import SimServer, SimStartError, read_credentials_file

    state = args.state if args.state is not None else default_data_dir() / "sim.sqlite"
    api_key, api_secret = args.api_key, args.api_secret
    if args.credentials is not None:
        try:
            api_key, api_secret = read_credentials_file(args.credentials)
        except SimStartError as error:
            print(f"spotdesk sim: {error}", file=sys.stderr)
            return EXIT_USAGE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sim = SimServer(
        host=args.host,
        port=args.port,
        seed=args.seed,
        state_path=state,
        api_key=api_key,
        api_secret=api_secret,
        frozen_market=args.frozen_market,
    )
    try:
        await sim.start()
    except SimStartError as error:
        print(f"spotdesk sim: {error}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        if args.replay:
            known = {spec.symbol for spec in sim.exchange.symbols}
            unknown = sorted(symbol for symbol, _ in args.replay if symbol not in known)
            if unknown:
                print(
                    f"spotdesk sim: --replay: unknown symbol {', '.join(unknown)}; "
                    f"the exchange lists {', '.join(sorted(known))}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            try:
                sim.exchange.configure(
                    {"replay": {symbol: [str(p) for p in prices] for symbol, prices in args.replay}}
                )
            except ValueError as error:
                print(f"spotdesk sim: --replay: {error}", file=sys.stderr)
                return EXIT_USAGE
        print(_banner(sim, state, args.credentials), flush=True)
        await stop.wait()
    finally:
        await sim.stop()
    print("spotdesk sim: stopped; state saved.", flush=True)
    return EXIT_OK


def _run_sim(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_sim(args))
    except KeyboardInterrupt:
        return EXIT_OK


def main(argv: Sequence[str] | None = None, *, desk: DeskRunner | None = None) -> int:
    """The `spotdesk` command line; returns the exit code. `desk` runs the desk: the console
    script (`tui/main.py`) passes it in, because the engine never imports the desk."""
    use_private_umask()  # every file spotdesk creates is its user's only (RELIABILITY.md S8)
    parser = build_parser(desk)
    words = list(argv if argv is not None else sys.argv[1:])
    if not words:
        words = ["desk"]
    args = parser.parse_args(words)
    if args.command is None:  # `spotdesk --debug`: the desk too
        args = parser.parse_args([*words, "desk"])
    records = start_command_logging(args)  # engine/logs.py: file, stderr, redaction, crashes
    try:
        code: int = args.run(args)
    except Exception as error:  # one redacted line, never local state; the log has the rest
        records.crashed(error)
        return EXIT_FAILURE
    finally:
        records.close()
    return code


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
