"""How the journal turns payloads and timestamps into text and back, refusing what money forbids.

Payloads are stored as canonical JSON (sorted keys, no spaces) so that the same engine state
always gives the same bytes. Decimals become strings, datetimes ISO-8601 UTC strings; floats are
refused outright because a float in a money path is a bug, and any other type (a pydantic
`SecretStr` included) is refused so that nothing the journal does not understand slips in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeAlias, cast

import orjson

from engine.core.jsonable import same_text_fast

JsonValue: TypeAlias = bool | int | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""What a stored payload may contain once encoded (decimals are already strings)."""

# Stateless configuration, built once: json.dumps with options builds a new encoder per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _standard_encoder() -> Callable[[object], str]:
    """`_CANONICAL.encode` for values already plain (no cycles, no floats), with the C encoder
    built once instead of on every call (that rebuild cost a fifth of each row's encoding)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return _CANONICAL.encode
    # The arguments JSONEncoder.iterencode passes, for _CANONICAL's options, except the
    # circular check (markers None): the values are checked trees.
    options = (None, ":", ",", True, False, True)  # indent, separators, sort, skip, allow_nan
    chunks = make(None, _CANONICAL.default, json.encoder.encode_basestring_ascii, *options)
    return lambda value: "".join(chunks(value, 0))


_ENCODE_STANDARD = _standard_encoder()


def _encode_plain(value: object) -> str:
    """Canonical JSON of a value made only of exact JSON types, as `_CANONICAL` writes it."""
    return same_text_fast(value, _ENCODE_STANDARD, orjson.OPT_SORT_KEYS)


def utc_now() -> datetime:
    """The default journal clock: the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    """A fixed-width ISO-8601 UTC text, so that stored timestamps also sort as text."""
    if moment.tzinfo is UTC:  # the usual case: nothing to check or convert
        return _utc_ts(moment)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the journal only stores aware UTC times")
    return _utc_ts(moment.astimezone(UTC))


@functools.lru_cache(maxsize=1024)
def _utc_ts(moment: datetime) -> str:
    """The text of a UTC time, remembered: a report stamps several rows with the same instants,
    and formatting one costs a microsecond. Only UTC times come here, so two equal keys (the
    same instant) always have the same text."""
    return moment.isoformat(timespec="microseconds")


def parse_ts(text: str) -> datetime:
    """The inverse of `format_ts`."""
    return datetime.fromisoformat(text)


def decimal_text(amount: Decimal, *, where: str = "amount") -> str:
    """The exact text of a finite Decimal; anything else (float, NaN, Infinity) is refused."""
    try:
        return _decimal_text(amount)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None


def _decimal_text(amount: object) -> str:
    if not isinstance(amount, Decimal):
        raise TypeError(f"{type(amount).__name__} refused; amounts are Decimal")
    if not amount.is_finite():
        raise ValueError(f"non-finite Decimal {amount!r} cannot be journaled")
    return str(amount)


class _Refused(Exception):
    """A value that cannot be journaled, with the path to it inside the payload."""

    def __init__(self, error: TypeError | ValueError) -> None:
        super().__init__(str(error))
        self.error = error
        self.path: list[str] = []


def plain(value: object, *, where: str = "payload") -> JsonValue:
    """A JSON-ready copy of `value`: Decimal -> str, datetime -> ISO UTC, str enums -> value."""
    try:
        return _plain(value)
    except _Refused as refused:
        path = "".join(reversed(refused.path))
        raise type(refused.error)(f"{where}{path}: {refused.error}") from None


def _plain(value: object) -> JsonValue:
    # Exact-type checks first: this runs for every field of every row, on the event loop.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # type: ignore[return-value]
    if kind is Decimal:
        return _checked(_decimal_text, value)
    if kind is dict or kind is PlainPayload:
        return _plain_mapping(value)  # type: ignore[arg-type]
    if kind is list or kind is tuple:
        return _plain_items(value)  # type: ignore[arg-type]
    return _plain_other(value)


def _plain_mapping(mapping: Mapping[object, object]) -> dict[str, JsonValue]:
    encoded: dict[str, JsonValue] = {}
    for key, item in mapping.items():
        if type(key) is not str:
            raise _Refused(TypeError(f"mapping key {key!r} is not a str"))
        try:
            encoded[key] = _plain(item)
        except _Refused as refused:
            refused.path.append(f".{key}")
            raise
    return encoded


def _plain_items(items: list[object] | tuple[object, ...]) -> list[JsonValue]:
    encoded: list[JsonValue] = []
    for index, item in enumerate(items):
        try:
            encoded.append(_plain(item))
        except _Refused as refused:
            refused.path.append(f"[{index}]")
            raise
    return encoded


def _plain_other(value: object) -> JsonValue:
    """Subclasses and the rarer types: enums, datetimes, other mappings; refusals."""
    if isinstance(value, Enum):
        if isinstance(value, str):
            return value.value  # type: ignore[no-any-return]
        raise _Refused(TypeError(f"store {value!r} by its name or value, not as an enum"))
    if isinstance(value, float):
        raise _Refused(TypeError(f"float {value!r} refused; money travels as Decimal or str"))
    if isinstance(value, str):
        return str.__str__(value)  # a plain str copy of a str subclass
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return _checked(_decimal_text, value)
    if isinstance(value, datetime):
        return _checked(format_ts, value)
    if isinstance(value, Mapping):
        return _plain_mapping(value)
    if isinstance(value, list | tuple):
        return _plain_items(value)
    raise _Refused(TypeError(f"{type(value).__name__} cannot be journaled"))


def _checked(convert: Callable[[Any], str], value: object) -> str:
    try:
        return convert(value)
    except (TypeError, ValueError) as error:
        raise _Refused(error) from None


_JSON_LEAVES = frozenset({str, int, bool, type(None)})
_STR_KEY = frozenset({str})
_FAST_CONTAINERS = 256  # more nested containers than this (or a cycle): take the checking walk


def _already_plain(value: object) -> bool:
    """Whether `value` holds only exact JSON types (dicts with str keys, lists, tuples, str,
    int, bool, None), so that `plain` would return an equal copy and it can be encoded as is.

    Payloads built by the engine are already plain (decimals written as text), so this check,
    which looks at each value's type without copying anything, replaces the walk; anything
    else (Decimal, datetime, enums, floats, subclasses) goes through `plain`, which converts
    or refuses it exactly as before.
    """
    pending = [value]
    budget = _FAST_CONTAINERS
    while pending:
        item = pending.pop()
        kind = type(item)
        children: Iterable[object]
        if kind is dict:
            mapping = cast(dict[object, object], item)
            if not _STR_KEY.issuperset(map(type, mapping)):
                return False
            children = mapping.values()
        elif kind is list or kind is tuple:
            children = cast(Iterable[object], item)
        elif kind in _JSON_LEAVES or kind is PlainPayload:
            continue  # a PlainPayload's builder vouches for everything inside it
        else:
            return False
        budget -= 1
        if budget < 0:
            return False
        for child in children:
            if type(child) not in _JSON_LEAVES:
                pending.append(child)
    return True


class PlainPayload(dict[str, Any]):
    """A payload whose builder guarantees that it holds only exact JSON types (str keys; str,
    int, bool, None; nested dicts and lists of the same), with amounts already written as text.

    `encode` writes it without looking at its values again: the engine's event views
    (`engine/service/payloads.py`) build one per event, field by field from typed records, and
    the check that the walk would repeat cost about a tenth of the event pipeline's time. It is
    an ordinary dict in every other respect.
    """

    __slots__ = ()


def encode(value: object, *, where: str = "payload") -> str:
    """Canonical JSON text for `value` (see `plain` for what is accepted)."""
    if type(value) is PlainPayload:
        return _encode_plain(value)
    return _encode_plain(value if _already_plain(value) else plain(value, where=where))


def encode_payload(payload: Mapping[str, object], *, where: str = "payload") -> str:
    """Canonical JSON text for a payload object (a mapping with str keys)."""
    kind = type(payload)
    # The exact types first: an isinstance check against the Mapping ABC costs more.
    if kind is not PlainPayload and kind is not dict and not isinstance(payload, Mapping):
        raise TypeError(f"{where}: expected a mapping, got {type(payload).__name__}")
    return encode(payload, where=where)


def decode(text: str) -> Any:
    """Stored JSON back to Python; a number with a fraction would come back Decimal, never float."""
    return json.loads(text, parse_float=Decimal)
