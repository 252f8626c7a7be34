"""Runs one benchmark module's `figures(short)` and writes its result as one marked JSON line.

`python -m bench` starts this in a fresh process per benchmark, so a crash or a leak in one
does not spoil the others and the peak memory reported is that benchmark's own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import resource
import sys
import time
import traceback

MARKER = "BENCH-RESULT "  # the line the runner reads, whatever else the benchmark prints


def run(name: str, short: bool) -> dict[str, object]:
    """The result of `bench.<name>.figures(short)`: figures, or the error that stopped it."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        figures = module.figures
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the result line
            result: dict[str, object] = {"figures": [f.to_json() for f in figures(short)]}
    except Exception as error:
        traceback.print_exc()
        result = {"figures": [], "error": f"{type(error).__name__}: {error}"[:300]}
    result["seconds"] = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux: this process's peak resident memory.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name", help="a module of bench/, e.g. order_path")
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    print(MARKER + json.dumps(run(args.name, args.short)), flush=True)


if __name__ == "__main__":
    main()
