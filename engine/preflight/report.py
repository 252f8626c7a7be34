"""Preflight verdicts: one line per check (ok, warn or fail with a short reason), and their sum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """ok: checked and fine. warn: worth knowing, trading may go on. fail: no trading."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class Check(StrEnum):
    """The checklist's lines, in the order they run and print."""

    FILES = "files"
    JOURNAL = "journal"
    KEYS = "keys"
    KEY_PERMISSIONS = "key_permissions"
    CLOCK = "clock"
    SYMBOLS = "symbols"
    USER_STREAM = "user_stream"


@dataclass(frozen=True)
class CheckResult:
    """One line of the checklist."""

    check: Check
    verdict: Verdict
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.check.value, "verdict": self.verdict.value, "reason": self.reason}

    def line(self) -> str:
        """`  ok    clock            offset +3 ms (bound 1000 ms)`"""
        return f"  {self.verdict.value:<5} {self.check.value:<16} {self.reason}"


def ok(check: Check, reason: str) -> CheckResult:
    return CheckResult(check, Verdict.OK, reason)


def warn(check: Check, reason: str) -> CheckResult:
    return CheckResult(check, Verdict.WARN, reason)


def fail(check: Check, reason: str) -> CheckResult:
    return CheckResult(check, Verdict.FAIL, reason)


@dataclass(frozen=True)
class PreflightReport:
    """Every line of one run, when it ran, and the key risks the operator accepted."""

    results: tuple[CheckResult, ...]
    at: datetime
    accepted_key_risks: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """No line failed (warnings do not stop trading)."""
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.verdict is Verdict.FAIL)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.verdict is Verdict.WARN)

    def result(self, check: Check) -> CheckResult | None:
        return next((r for r in self.results if r.check is check), None)

    def halt_reason(self) -> str | None:
        """What the trading state says while a check fails: the first failing line."""
        first = next(iter(self.failures), None)
        return None if first is None else f"preflight: {first.check.value}: {first.reason}"

    def merged(self, newer: PreflightReport) -> PreflightReport:
        """This report with the lines of `newer` replacing the same checks (a partial re-run)."""
        fresh = {r.check: r for r in newer.results}
        lines = tuple(fresh.pop(r.check, r) for r in self.results) + tuple(fresh.values())
        return PreflightReport(lines, newer.at, newer.accepted_key_risks)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "at": self.at.isoformat(),
            "checks": [r.to_json() for r in self.results],
            "accepted_key_risks": list(self.accepted_key_risks),
        }

    def summary(self) -> str:
        """`passed`, `passed (1 warning)` or `failed: 2 of 7 checks`."""
        if not self.passed:
            return f"failed: {len(self.failures)} of {len(self.results)} checks"
        count = len(self.warnings)
        if count == 0:
            return "passed"
        return f"passed ({count} warning{'s' if count > 1 else ''})"
