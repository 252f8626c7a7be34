"""Resident memory of this process, and cProfile's summary of a run, for the growth benchmarks."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def rss_mb() -> float:
    """This process's resident set size now, in MiB (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def profiled(run: Callable[[], T], top: int = 25) -> T:
    """`run()` under cProfile; prints the functions with the most own time, then cumulative."""
    profile = cProfile.Profile()
    result = profile.runcall(run)
    print_profile(profile, top)
    return result


def print_profile(profile: cProfile.Profile, top: int = 25) -> None:
    """The functions with the most own time, then the most cumulative time."""
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        print(f"-- cProfile, by {order} --")
        print(out.getvalue())
