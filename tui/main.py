"""The `spotdesk` console script: the command line of engine/cli.py, with the desk plugged in."""

from __future__ import annotations

import contextlib
import sys

from engine.cli import main as cli_main
from tui.launch import run_desk


def main() -> int:
    return cli_main(desk=run_desk)


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
