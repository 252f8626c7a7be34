"""Strict readers for values in Binance JSON: exact decimals, integers, flags and safe strings.

Binance sends decimals as strings; a float here means someone parsed the JSON lossily, so it is
refused rather than rounded. Strings from the exchange end up on the operator's screen, so
control characters (terminal escape sequences) are refused too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_MAX_TEXT = 256
# C0 controls, DEL and C1 controls: what a terminal could take as an escape sequence (the desk's
# event log replaces them with the same pattern).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


class MalformedPayload(ValueError):
    """A venue payload that is missing a field or carries a value of the wrong kind."""


def require_mapping(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise MalformedPayload(f"{what}: expected a JSON object, got {type(raw).__name__}")
    return raw


def _get(obj: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise MalformedPayload(f"{what}: missing field {key!r}") from None


def to_decimal(value: Any, what: str, *, signed: bool = False) -> Decimal:
    """An exact Decimal from a JSON string (or int); floats, NaN and infinities are refused."""
    text = type(value) is str  # the usual case, tested first: this runs for every amount
    if not text and (isinstance(value, bool) or not isinstance(value, str | int)):
        raise MalformedPayload(
            f"{what}: expected a decimal string, got {type(value).__name__} {value!r:.40}"
        )
    try:
        number = Decimal(value.strip() if text or isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise MalformedPayload(f"{what}: not a decimal number: {value!r:.40}") from None
    if not number.is_finite():
        raise MalformedPayload(f"{what}: not a finite number: {value!r:.40}")
    if number < 0 and not signed:
        raise MalformedPayload(f"{what}: negative value {value!r:.40}")
    return number


def decimal_field(obj: Mapping[str, Any], key: str, what: str, *, signed: bool = False) -> Decimal:
    return to_decimal(_get(obj, key, what), f"{what}.{key}", signed=signed)


def optional_decimal(obj: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    """A decimal that Binance omits or sends as zero when it does not apply (stop price...)."""
    if obj.get(key) is None:
        return None
    number = decimal_field(obj, key, what)
    return None if number == 0 else number


def int_field(obj: Mapping[str, Any], key: str, what: str) -> int:
    value = _get(obj, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{what}.{key}: expected an integer, got {value!r:.40}")
    return value


def optional_int(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    if obj.get(key) is None:
        return None
    return int_field(obj, key, what)


def bool_field(obj: Mapping[str, Any], key: str, what: str) -> bool:
    value = _get(obj, key, what)
    if not isinstance(value, bool):
        raise MalformedPayload(f"{what}.{key}: expected true or false, got {value!r:.40}")
    return value


def to_text(value: Any, what: str) -> str:
    """A non-empty string without control characters, at most 256 characters long."""
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{what}: expected a non-empty string, got {value!r:.40}")
    if len(value) > _MAX_TEXT:
        raise MalformedPayload(f"{what}: string longer than {_MAX_TEXT} characters")
    if CONTROL_CHARACTERS.search(value) is not None:
        raise MalformedPayload(f"{what}: control characters in {value!r:.40}")
    return value


def text_field(obj: Mapping[str, Any], key: str, what: str) -> str:
    return to_text(_get(obj, key, what), f"{what}.{key}")


def optional_text(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    """A string that Binance omits, sends as null or as "" when it does not apply."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_text(value, f"{what}.{key}")
