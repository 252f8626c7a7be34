"""Request parameters as received (strings) to typed values, with Binance's error codes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from engine.sim.core.errors import (
    CLIENT_ID_RANGE,
    DECIMAL_RANGE,
    INTEGER_RANGE,
    bad_precision,
    illegal_chars,
    invalid_param,
    mandatory,
)

Params = Mapping[str, str]

ZERO = Decimal(0)
EIGHT_PLACES = Decimal("0.00000001")
# Binance accepts at most 8 decimals for assets with precision 8 (all of ours).
MAX_DECIMALS = 8

_DECIMAL_RE = re.compile(DECIMAL_RANGE)
_INTEGER_RE = re.compile(INTEGER_RANGE)
_CLIENT_ID_RE = re.compile(CLIENT_ID_RANGE)


def fmt(value: Decimal) -> str:
    """Binance's decimal strings: always 8 decimals, e.g. "0.00100000"."""
    return f"{value.quantize(EIGHT_PLACES, ROUND_HALF_UP):f}"


def q8(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Quantize to 8 decimals (the precision of every asset here)."""
    return value.quantize(EIGHT_PLACES, rounding)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value` (step 0 means no step)."""
    if step == 0:
        return value
    return (value / step).to_integral_value(ROUND_DOWN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step == 0 or value % step == 0


def present(params: Params, name: str) -> bool:
    """Binance treats an empty value like a missing one."""
    return params.get(name, "") != ""


def text(params: Params, name: str) -> str | None:
    value = params.get(name, "")
    return value if value != "" else None


def required_text(params: Params, name: str) -> str:
    value = text(params, name)
    if value is None:
        raise mandatory(name)
    return value


def decimal(params: Params, name: str) -> Decimal | None:
    """A DECIMAL parameter: digits with an optional fraction, at most 8 significant decimals."""
    raw = text(params, name)
    if raw is None:
        return None
    if not _DECIMAL_RE.match(raw):
        raise illegal_chars(name, DECIMAL_RANGE)
    value = Decimal(raw)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise bad_precision(name)
    return value


def required_decimal(params: Params, name: str) -> Decimal:
    value = decimal(params, name)
    if value is None:
        raise mandatory(name)
    return value


def integer(params: Params, name: str) -> int | None:
    raw = text(params, name)
    if raw is None:
        return None
    if not _INTEGER_RE.match(raw):
        raise illegal_chars(name, INTEGER_RANGE)
    return int(raw)


def client_id(params: Params, name: str) -> str | None:
    raw = text(params, name)
    if raw is not None and not _CLIENT_ID_RE.match(raw):
        raise illegal_chars(name, CLIENT_ID_RANGE)
    return raw


def boolean(params: Params, name: str, default: bool) -> bool:
    raw = text(params, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise invalid_param(name)
    return lowered == "true"


def symbol_list(params: Params, name: str) -> list[str] | None:
    """An ARRAY OF STRING parameter such as symbols=["BTCUSDT","ETHUSDT"]."""
    raw = text(params, name)
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise invalid_param(name) from None
    if not isinstance(parsed, list) or not parsed or not all(isinstance(s, str) for s in parsed):
        raise invalid_param(name)
    return list(parsed)
