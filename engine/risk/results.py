"""What a risk evaluation says: each rule with pass or fail and its numbers, and the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.core.jsonable import to_jsonable
from engine.risk.numbers import fmt
from engine.risk.proposal import ProposedOrder


class Level(StrEnum):
    """How close to a limit: ok, warning (past the warning ratio) or breach (refused)."""

    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"


class Rule(StrEnum):
    """The rules every order is checked against, in the order they are checked."""

    TRADING_STATE = "TRADING_STATE"
    SYMBOL = "SYMBOL"  # allow and deny lists, the quote asset, known exchangeInfo rules
    EXCHANGE_FILTERS = "EXCHANGE_FILTERS"
    ORDER_RATE = "ORDER_RATE"
    BALANCE = "BALANCE"
    NO_SHORT = "NO_SHORT"
    DAILY_LOSS = "DAILY_LOSS"
    DAILY_TRADES = "DAILY_TRADES"
    OPEN_POSITIONS = "OPEN_POSITIONS"
    ORDER_VALUE = "ORDER_VALUE"
    POSITION_VALUE = "POSITION_VALUE"
    POSITION_SHARE = "POSITION_SHARE"
    TOTAL_EXPOSURE = "TOTAL_EXPOSURE"
    LONG_EXPOSURE = "LONG_EXPOSURE"
    SOFT_NOTIONAL = "SOFT_NOTIONAL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One rule's verdict on one order; `numbers` are the values behind it as the check had
    them (decimals, names, None), shown as strings by `values` only when someone looks: every
    order is checked against every rule, and its send should not wait for the text."""

    rule: Rule
    passed: bool
    level: Level
    message: str
    numbers: Mapping[str, object]

    @property
    def values(self) -> dict[str, str]:
        """The numbers as a check shows them: decimals exact, None as "unknown"."""
        return {key: shown(value) for key, value in self.numbers.items()}

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON (what `to_jsonable` gives, built directly: it runs per order)."""
        return {
            "rule": self.rule.value,
            "passed": self.passed,
            "level": self.level.value,
            "message": self.message,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The verdict on one order, with every check, ready for a preview before sending.

    `allowed` is False when any check failed; `refusal` then names the first failed rule and its
    numbers. `needs_confirmation` is True when the order is above the soft notional limit and
    was not confirmed: the engine may send an order only when `may_send`.
    """

    order: ProposedOrder  # rounded toward safety: what would be sent
    adjusted: tuple[str, ...]  # the fields rounding changed (quantity, price, stopPrice)
    notional: Decimal | None  # the order's expected value in the limits' quote asset
    checks: tuple[CheckResult, ...]
    needs_confirmation: bool

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.passed)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.passed and c.level is Level.WARNING)

    @property
    def allowed(self) -> bool:
        return not self.failed

    @property
    def may_send(self) -> bool:
        return self.allowed and not self.needs_confirmation

    @property
    def refusal(self) -> str | None:
        """The first failed check as `<RULE>: <message>`, or None when allowed."""
        failed = self.failed
        if not failed:
            return None
        return f"{failed[0].rule}: {failed[0].message}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view for the desk's preview and the command line."""
        return {
            "allowed": self.allowed,
            "needs_confirmation": self.needs_confirmation,
            "refusal": self.refusal,
            "order": to_jsonable(self.order),
            "adjusted": list(self.adjusted),
            "notional": None if self.notional is None else fmt(self.notional),
            "checks": [check.to_json() for check in self.checks],
        }


def level_of(value: Decimal, limit: Decimal, warning_ratio: Decimal) -> Level:
    """BREACH above `limit`, WARNING from `warning_ratio` of it, else OK (exact comparisons)."""
    if value > limit:
        return Level.BREACH
    if value >= limit * warning_ratio:
        return Level.WARNING
    return Level.OK


def shown(value: object) -> str:
    """A number or name as a check shows it: decimals exact, None as "unknown"."""
    if value is None:
        return "unknown"
    if isinstance(value, Decimal):
        return fmt(value)
    return str(value)


def result(
    rule: Rule,
    passed: bool,
    message: str,
    values: Mapping[str, object] | None = None,
    level: Level | None = None,
) -> CheckResult:
    """A CheckResult; the level defaults to BREACH for a failure and OK for a pass."""
    if level is None:
        level = Level.OK if passed else Level.BREACH
    return CheckResult(rule, passed, level, message, values or {})
