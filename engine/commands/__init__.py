"""The `spotdesk` subcommands that talk to the engine through its control socket.

`register(subparsers)` adds `engine start|stop|status|run`, `status`, `order`, `cancel`,
`close`, `halt`, `reduce`, `arm`, `panic`, `check`, `config` and `export` to the `spotdesk`
parser; each sets `args.run`, a function of the parsed arguments returning the exit code.
`engine/cli.py` is the one entry point.

Exit codes:
    0  ok
    2  usage: malformed command line or input; nothing was sent
    3  refused by a risk or safety rule (filters, halted, limits, a running engine); nothing sent
    4  venue error, or no engine answers
    5  outcome unknown: sent, and the engine will settle it by query (never by resending)
"""

from __future__ import annotations

import argparse

from engine.commands import (
    check_cmd,
    config_cmd,
    engine_cmds,
    export_cmd,
    order_cmd,
    panic_cmd,
    status_cmd,
    trading_cmds,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the engine's subcommands to `subparsers`; each sets `run(args) -> exit code`."""
    engine_cmds.register(subparsers)
    status_cmd.register(subparsers)
    order_cmd.register(subparsers)
    trading_cmds.register(subparsers)
    panic_cmd.register(subparsers)
    check_cmd.register(subparsers)
    config_cmd.register(subparsers)
    export_cmd.register(subparsers)
