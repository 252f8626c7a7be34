"""Balances and long-only positions derived from the venue's reports, in Decimal."""

from engine.ledger.ledger import Ledger

__all__ = ["Ledger"]
