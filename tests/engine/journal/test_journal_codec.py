"""Payload encoding: canonical JSON, exact decimals, UTC times, and refusals (floats, secrets)."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st
from journal_testing import read_directory
from pydantic import SecretStr

from engine.journal import Journal
from engine.journal.codec import (
    PlainPayload,
    decode,
    encode,
    encode_payload,
    format_ts,
    parse_ts,
)


class Side(StrEnum):
    BUY = "BUY"


class Level(IntEnum):
    HIGH = 2


def test_canonical_json_sorts_keys_and_keeps_decimals_exact() -> None:
    payload = {
        "qty": Decimal("0.00010000"),
        "price": Decimal("1E+3"),
        "side": Side.BUY,
        "legs": (1, "two", None, True),
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    text = encode_payload(payload)
    assert text == (
        '{"at":"2026-01-02T03:04:05.000000+00:00","legs":[1,"two",null,true],'
        '"price":"1E+3","qty":"0.00010000","side":"BUY"}'
    )
    assert Decimal(decode(text)["qty"]) == Decimal("0.00010000")


def test_timestamps_are_fixed_width_utc_and_round_trip() -> None:
    eastern = timezone(timedelta(hours=-5))
    moment = datetime(2026, 3, 1, 19, 0, tzinfo=eastern)
    assert format_ts(moment) == "2026-03-02T00:00:00.000000+00:00"
    assert parse_ts(format_ts(moment)) == moment
    assert len(format_ts(datetime(2026, 3, 2, tzinfo=UTC))) == len(format_ts(moment))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"price": 0.1}, TypeError, "payload.price: float 0.1 refused"),
        ({"a": {"b": [0, 2.5]}}, TypeError, r"payload.a.b\[1\]: float 2.5 refused"),
        ({"qty": Decimal("Infinity")}, ValueError, "payload.qty: non-finite Decimal"),
        ({"level": Level.HIGH}, TypeError, "payload.level: store <Level.HIGH: 2> by its name"),
        ({"key": SecretStr("canary")}, TypeError, "payload.key: SecretStr cannot be journaled"),
        ({"raw": b"bytes"}, TypeError, "payload.raw: bytes cannot be journaled"),
        ({3: "x"}, TypeError, "payload: mapping key 3 is not a str"),
        ({"t": datetime(2026, 1, 1)}, ValueError, "payload.t: naive datetime"),  # noqa: DTZ001
    ],
)
def test_refused_values_name_their_place(
    value: dict[object, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        encode(value)


def test_plain_payloads_encode_as_the_generic_walk_does() -> None:
    # Engine payloads are already plain (decimals as text) and skip the copying walk; the text
    # must be the canonical JSON of the same value all the same, however deep.
    deep: object = ["leaf", 7]
    for level in range(300):
        deep = {"level": level, "next": deep, "ok": True}
    payloads: list[dict[str, object]] = [
        {"z": None, "a": "caf\u00e9 \u2603", "m": {"y": [1, (2, "3")], "b": False}, "n": -5},
        {"deep": deep},
        {},
    ]
    for payload in payloads:
        expected = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        assert encode_payload(payload) == expected
    assert encode_payload(payloads[0]) == (
        '{"a":"caf\\u00e9 \\u2603","m":{"b":false,"y":[1,[2,"3"]]},"n":-5,"z":null}'
    )


_PLAIN_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_PLAIN_VALUES)
def test_the_fast_encoder_writes_the_standard_encoders_text(value: object) -> None:
    # orjson writes plain payloads; its text must be the standard canonical text whatever the
    # value holds (any text, DEL, control characters, ints beyond 64 bits).
    assert encode(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        {"del": "\x7f", "ctl": "\x00\x1f\t\n", "quote": '"\\/'},
        {"big": 2**64, "small": -(2**63) - 1, "edge": [2**64 - 1, -(2**63)]},
        {"surrogate": "\ud800", "astral": "\U0001f600", "\u00e9": "key"},
    ],
)
def test_text_the_fast_encoder_would_write_differently_takes_the_standard_one(
    value: dict[str, object],
) -> None:
    assert encode_payload(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"a": "x", "b": [{"c": "y", "d": 1.0}]}, TypeError, r"payload.b\[0\].d: float 1.0"),
        ({"a": ("x", [Level.HIGH])}, TypeError, r"payload.a\[1\]\[0\]: store <Level.HIGH"),
        ({"a": {1.5: "x"}}, TypeError, "payload.a: mapping key 1.5 is not a str"),
        ({"a": {True: "x"}}, TypeError, "payload.a: mapping key True is not a str"),
    ],
)
def test_refusals_deep_inside_otherwise_plain_payloads(
    value: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        encode_payload(value)


def test_a_payload_containing_itself_is_refused() -> None:
    payload: dict[str, object] = {"a": "x"}
    payload["self"] = payload
    with pytest.raises(RecursionError):
        encode_payload(payload)


def test_a_payload_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="payload: expected a mapping, got list"):
        encode_payload([1, 2])  # type: ignore[arg-type]


async def test_secrets_never_reach_the_file(journal_path: pathlib.Path) -> None:
    canary = "CANARY-SECRET-7f3a9c"
    async with await Journal.open(journal_path, mode="sim", account="default") as journal:
        with pytest.raises(TypeError, match="SecretStr cannot be journaled"):
            journal.set_state("api", {"secret": SecretStr(canary)})
        with pytest.raises(TypeError, match="SecretStr cannot be journaled"):
            journal.append_event("Configured", {"key": SecretStr(canary)})
        await journal.append_event("Configured", {"key": str(SecretStr(canary))})
    everything = read_directory(journal_path.parent)
    assert b"CANARY" not in everything
    assert b"**********" in everything  # what str(SecretStr) shows instead of the value


def test_plain_payloads_encode_as_dicts_do_alone_or_nested() -> None:
    trusted = PlainPayload(qty="0.5", side="BUY", trade_id=7, maker=None, flags=[True])
    as_dict = dict(trusted)
    assert encode_payload(trusted) == encode_payload(as_dict)
    assert encode({"z": trusted, "a": 1}) == encode({"z": as_dict, "a": 1})
    assert encode({"fill": trusted}) == (
        '{"fill":{"flags":[true],"maker":null,"qty":"0.5","side":"BUY","trade_id":7}}'
    )
    # Beside an unchecked value, the whole payload takes the checking walk, trust and all.
    assert encode({"fill": trusted, "fee": Decimal("0.1")}) == encode(
        {"fill": as_dict, "fee": "0.1"}
    )
