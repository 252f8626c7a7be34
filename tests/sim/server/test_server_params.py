"""Parameter parsing and the signed payload, as Binance reads a request."""

from __future__ import annotations

import pytest

from engine.sim.core.errors import SimError
from engine.sim.server.params import parse_request


def test_query_string_params_and_payload_without_signature() -> None:
    parsed = parse_request("symbol=BTCUSDT&timestamp=1&signature=abc", b"")
    assert parsed.params == {"symbol": "BTCUSDT", "timestamp": "1"}
    assert parsed.payload == b"symbol=BTCUSDT&timestamp=1"
    assert parsed.signature == "abc"


def test_body_is_decoded_but_payload_keeps_the_encoded_bytes() -> None:
    parsed = parse_request("", b"newClientOrderId=a%3Ab&price=1.5&signature=x%2By%3D")
    assert parsed.params == {"newClientOrderId": "a:b", "price": "1.5"}
    assert parsed.payload == b"newClientOrderId=a%3Ab&price=1.5"
    assert parsed.signature == "x+y="


def test_query_and_body_concatenate_without_separator_and_query_wins() -> None:
    parsed = parse_request("side=BUY&price=1", b"price=2&quantity=3")
    assert parsed.params == {"side": "BUY", "price": "1", "quantity": "3"}
    assert parsed.payload == b"side=BUY&price=1price=2&quantity=3"
    assert parsed.signature is None


def test_plus_in_form_values_is_a_space() -> None:
    assert parse_request("", b"name=a+b").params == {"name": "a b"}


def test_a_repeated_parameter_is_rejected() -> None:
    with pytest.raises(SimError) as caught:
        parse_request("a=1&a=2", b"")
    assert (caught.value.code, caught.value.msg) == (
        -1101,
        "Duplicate values for a parameter detected.",
    )


def test_empty_segments_are_ignored() -> None:
    parsed = parse_request("&a=1&&", b"")
    assert parsed.params == {"a": "1"}
    assert parsed.payload == b"a=1"
