"""How risk computes and shows numbers: exact Decimal arithmetic, plain strings, fixed percents."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal

ZERO = Decimal(0)
WIDE = Context(prec=60)  # sums and products of wire-sized decimals stay exact at 60 digits
# A quotient rounded down (or up) is never above (below) the true one, so flooring (ceiling) it
# to a step gives exactly the step the true quotient would.
FLOOR = Context(prec=60, rounding=ROUND_FLOOR)
CEILING = Context(prec=60, rounding=ROUND_CEILING)
PERCENT_QUANTUM = Decimal("0.01")


def fmt(value: Decimal) -> str:
    """`value` exactly, without trailing zeros or an exponent: 2500.00 -> "2500"."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def percent(part: Decimal, whole: Decimal) -> str:
    """`part / whole` (whole > 0) as a percent cut to two decimals ("83.33%"), for messages
    only: decisions compare products, never quotients."""
    hundredths = WIDE.divide(part * 100, whole)
    return fmt(hundredths.quantize(PERCENT_QUANTUM, rounding=ROUND_DOWN)) + "%"
