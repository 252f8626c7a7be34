"""`python -m engine.service [--live]`: the engine in the foreground, as `spotdesk engine run`."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from engine.cli import main

    sys.exit(main(["engine", "run", *sys.argv[1:]]))
