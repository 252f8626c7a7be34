"""Run seeded swarm runs from the project root:

    python -m tests.swarm --seeds N [--start S] [--actions K] [--jobs J] [--verbose]

Prints each failure with its seed and the command that replays it, then how many seeds ran per
minute. `--verbose` prints every run's action log (use it with `--seeds 1` to replay one).
PYTHONHASHSEED is pinned to 0 unless set, so a replay iterates sets in the same order.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import os
import pathlib
import sys
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

with warnings.catch_warnings():
    # python-binance 1.0.37 imports a name websockets 17 deprecates; the warning is not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import binance  # noqa: F401

from swarm_run import DEFAULT_ACTIONS, SeedResult, replay_command, run_seed


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.swarm", description=__doc__)
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds (default 100)")
    parser.add_argument("--start", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument(
        "--actions", type=int, default=DEFAULT_ACTIONS, help="operator actions per seed"
    )
    parser.add_argument("--jobs", type=int, default=1, help="processes to run seeds in")
    parser.add_argument("--verbose", action="store_true", help="print each run's action log")
    parser.add_argument("--digest", action="store_true", help="print each seed's digest")
    return parser.parse_args(argv)


def _report(result: SeedResult, args: argparse.Namespace) -> None:
    if args.verbose:
        print(f"-- seed {result.seed}: {result.profile}")
        print("\n".join(result.log))
    if args.digest:
        print(f"seed {result.seed} digest {result.digest}")
    if result.failure is not None:
        print(f"FAIL seed {result.seed} ({result.profile}): {result.failure}", flush=True)
        print(f"  replay: {replay_command(result.seed, result.actions)}", flush=True)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    logging.getLogger().addHandler(logging.NullHandler())  # the runs judge the engine's logs
    seeds = range(args.start, args.start + args.seeds)
    started = time.perf_counter()
    failed: list[int] = []
    if args.jobs > 1:
        with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
            results = pool.map(run_seed, seeds, [args.actions] * len(seeds), chunksize=4)
            for result in results:
                _report(result, args)
                if result.failure is not None:
                    failed.append(result.seed)
    else:
        for seed in seeds:
            result = run_seed(seed, args.actions)
            _report(result, args)
            if result.failure is not None:
                failed.append(result.seed)
    elapsed = time.perf_counter() - started
    rate = len(seeds) / elapsed * 60 if elapsed > 0 else 0.0
    print(
        f"{len(seeds)} seed(s) of {args.actions} actions from {args.start}: "
        f"{len(failed)} failed in {elapsed:.1f} s ({rate:.0f} seeds/min, {args.jobs} process(es))"
    )
    if failed:
        print(f"failed seeds: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "tests.swarm", *sys.argv[1:]])
    sys.exit(main(sys.argv[1:]))
