"""Pre-trade risk: one pure choke point every order passes, position sizing, trading states."""

from engine.risk.build import build_context
from engine.risk.context import RiskContext, account_equity
from engine.risk.counters import DailyCounters, DayTotals
from engine.risk.evaluate import evaluate
from engine.risk.gauges import Gauge, utilisation
from engine.risk.limits import RiskLimits
from engine.risk.proposal import ProposedOrder
from engine.risk.results import CheckResult, Level, RiskDecision, Rule
from engine.risk.sizing import SizingResult, size_from_stop
from engine.risk.state import StateTransition, TradingState, TradingStateMachine

__all__ = [
    "CheckResult",
    "DailyCounters",
    "DayTotals",
    "Gauge",
    "Level",
    "ProposedOrder",
    "RiskContext",
    "RiskDecision",
    "RiskLimits",
    "Rule",
    "SizingResult",
    "StateTransition",
    "TradingState",
    "TradingStateMachine",
    "account_equity",
    "build_context",
    "evaluate",
    "size_from_stop",
    "utilisation",
]
