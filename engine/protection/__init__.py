"""Protection: planning stop-loss, take-profit, OCO and trailing orders resting on the exchange."""

from engine.protection.plan import (
    LegPlan,
    PlanRefusal,
    ProtectionPlan,
    ProtectionRequest,
    plan_protection,
)
from engine.protection.records import EntryWatch, Protection, ProtectionStatus, status_of
from engine.protection.settings import ProtectionSettings
from engine.protection.trailing import TrailDecision, TrailPolicy, next_trail_stop

__all__ = [
    "EntryWatch",
    "LegPlan",
    "PlanRefusal",
    "Protection",
    "ProtectionPlan",
    "ProtectionRequest",
    "ProtectionSettings",
    "ProtectionStatus",
    "TrailDecision",
    "TrailPolicy",
    "next_trail_stop",
    "plan_protection",
    "status_of",
]
