"""Text for amounts and ages: decimal strings shown exactly, without float rounding."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def amount(value: Any) -> str:
    """A decimal string without trailing zeros ("0.50999000" -> "0.50999"); "-" when absent."""
    if value is None or value == "":
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == 0:
        return "0"
    text = format(number.normalize(), "f")
    return text


def age(seconds: Any) -> str:
    """An age in whole seconds, minutes or hours; "-" when unknown."""
    if seconds is None:
        return "-"
    value = float(seconds)
    if value < 60:
        return f"{value:.0f}s"
    if value < 3600:
        return f"{value / 60:.0f}m"
    return f"{value / 3600:.1f}h"
