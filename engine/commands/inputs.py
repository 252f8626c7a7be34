"""Validated operator inputs: plain positive decimals and symbols, with one-line errors.

Errors never echo what was typed: a secret pasted into the wrong argument must not end up in
the terminal's scrollback or a log a second time (RELIABILITY.md F9).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from decimal import Decimal

# Digits with at most one dot: no sign, exponent, separators, NaN or Infinity.
_PLAIN_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MAX_DECIMAL_CHARS = 40
_SYMBOL = re.compile(r"[A-Z0-9]{2,20}")


def parse_positive_decimal(text: str) -> Decimal:
    """`text` as a Decimal > 0, or ValueError saying what is expected (never echoing `text`)."""
    if len(text) > _MAX_DECIMAL_CHARS or not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(
            "must be a plain positive decimal such as 0.05 "
            "(digits and at most one dot; no sign, exponent or separators)"
        )
    value = Decimal(text)
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def parse_symbol(text: str) -> str:
    """An exchange symbol such as BTCUSDT (case folded to upper), or ValueError."""
    symbol = text.upper()
    if not _SYMBOL.fullmatch(symbol):
        raise ValueError("must be 2-20 letters or digits, such as BTCUSDT")
    return symbol


def argument_type(parse: Callable[[str], object]) -> Callable[[str], object]:
    """`parse` as an argparse `type=`: its ValueError becomes argparse's one-line usage error."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


POSITIVE_DECIMAL = argument_type(parse_positive_decimal)
SYMBOL = argument_type(parse_symbol)
