"""`python -m bench`: runs every benchmark, each in its own process, and prints one table.

Usage: `python -m bench [--short] [--only NAME ...] [--json FILE] [--markdown]`; `--load FILE`
prints a saved `--json` run again. A benchmark is a module of bench/ with
`figures(short: bool) -> list[Figure]` (bench/figure.py); the runner starts
`python -m bench.child NAME` for each, one after the other (so they do not compete for the
machine), and reads the figures back. `--short` is the CI smoke mode: few repeats, small
sizes, the whole run under two minutes; its figures only prove the benchmarks still run.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.child import MARKER
from bench.figure import Figure
from bench.table import BenchResult, machine, markdown, plain

HERE = pathlib.Path(__file__).resolve().parent
# The order of the table; any other module of bench/ defining figures() follows, by name.
ORDER = (
    "sim_throughput",
    "sim_persist",
    "journal_commit",
    "pipeline",
    "order_path",
    "emergency_stop",
    "desk_latency",
    "desk_startup",
    "growth_memory",
    "growth_restart",
    "growth_desk",
)
TIMEOUT_S = {True: 300.0, False: 1800.0}  # per benchmark, short and full


def available() -> list[str]:
    """Benchmark modules present in bench/ that follow the protocol, in table order."""
    found = {
        path.stem
        for path in HERE.glob("*.py")
        if not path.stem.startswith("_") and "\ndef figures(" in path.read_text()
    }
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def run_one(name: str, short: bool) -> BenchResult:
    """Runs bench/<name>.py's figures() in a fresh process; a crash becomes an error row."""
    command = [sys.executable, "-m", "bench.child", name, *(["--short"] if short else [])]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S[short],
            check=False,
        )
    except subprocess.TimeoutExpired:
        return BenchResult(name, seconds=time.perf_counter() - started, error="timed out")
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return BenchResult(
            name, seconds=time.perf_counter() - started, error=f"no result: {tail[0][:200]}"
        )
    data = json.loads(lines[-1][len(MARKER) :])
    if data.get("error"):
        sys.stderr.write(done.stderr[-3000:])
    return BenchResult(
        name=name,
        figures=[Figure.from_json(f) for f in data["figures"]],
        seconds=float(data["seconds"]),
        peak_rss_mb=float(data["peak_rss_mb"]),
        error=data.get("error"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="CI smoke mode, under two minutes")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--json", type=pathlib.Path, metavar="FILE", help="also write JSON")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--load", type=pathlib.Path, metavar="FILE", help="print a --json run")
    args = parser.parse_args(argv)
    render = markdown if args.markdown else plain
    if args.load is not None:
        saved = json.loads(args.load.read_text())
        loaded = [
            BenchResult(
                name=r["name"],
                figures=[Figure.from_json(f) for f in r["figures"]],
                seconds=r["seconds"],
                peak_rss_mb=r["peak_rss_mb"],
                error=r["error"],
            )
            for r in saved["results"]
        ]
        when = datetime.fromisoformat(saved["date"])
        print(render(loaded, when, saved["machine"], saved["short"]))
        return 0
    names = available()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(names)}")
        names = [name for name in names if name in args.only]
    when = datetime.now(UTC)
    info = machine()
    results: list[BenchResult] = []
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        result = run_one(name, args.short)
        status = "failed: " + result.error if result.error else "done"
        print(f"bench: {name} {status} in {result.seconds:.0f} s", file=sys.stderr, flush=True)
        results.append(result)
    print(render(results, when, info, args.short))
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "date": when.isoformat(),
                    "machine": info,
                    "short": args.short,
                    "results": [
                        {
                            "name": r.name,
                            "seconds": r.seconds,
                            "peak_rss_mb": r.peak_rss_mb,
                            "error": r.error,
                            "figures": [f.to_json() for f in r.figures],
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
