"""Client order ids: valid on the wire, deterministic, never repeated after a restart."""

from __future__ import annotations

import pytest

from engine.core.ids import (
    ClientOrderIdGenerator,
    ParsedClientOrderId,
    is_valid_client_order_id,
    parse_client_order_id,
    validate_client_order_id,
)


def test_generator_is_deterministic() -> None:
    first = ClientOrderIdGenerator("sd", "a1")
    assert [first.next() for _ in range(3)] == ["sd-a1-1", "sd-a1-2", "sd-a1-3"]
    again = ClientOrderIdGenerator("sd", "a1")
    assert again.next() == "sd-a1-1"
    assert first.peek() == "sd-a1-4" and first.next_counter == 4
    assert first.next() == "sd-a1-4"


def test_restored_generator_continues_after_the_highest_id_seen() -> None:
    used = ["sd-a1-7", "sd-a1-12", "sd-b2-99", "web_123", "sd-a1-3", "x-HNA2TXFJabc"]
    generator = ClientOrderIdGenerator.restored("sd", "a1", used)
    assert generator.next() == "sd-a1-13"
    assert ClientOrderIdGenerator.restored("sd", "a1", []).next() == "sd-a1-1"


def test_ids_stay_within_binance_limits() -> None:
    generator = ClientOrderIdGenerator("abcdefghijkl", "ABCDEFGHIJKL", 9_999_999_999)
    value = generator.next()
    assert value == "abcdefghijkl-ABCDEFGHIJKL-9999999999"
    assert len(value) == 36 and is_valid_client_order_id(value)
    with pytest.raises(OverflowError):
        generator.next()


@pytest.mark.parametrize(
    ("prefix", "tag", "counter", "message"),
    [
        ("s d", "a1", 1, "prefix"),
        ("sd", "", 1, "instance tag"),
        ("sd", "a-1", 1, "instance tag"),
        ("abcdefghijklm", "a", 1, "prefix"),
        ("sd", "a1", 0, "counter starts at 1"),
    ],
)
def test_generator_refuses_bad_parts(prefix: str, tag: str, counter: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientOrderIdGenerator(prefix, tag, counter)


def test_is_ours_looks_at_the_prefix_only() -> None:
    generator = ClientOrderIdGenerator("sd", "a1")
    assert generator.is_ours("sd-a1-5") and generator.is_ours("sd-zz-1")
    assert not generator.is_ours("sdx-a1-5") and not generator.is_ours("web_1")


def test_validation() -> None:
    assert is_valid_client_order_id("sd-a1_9")
    assert validate_client_order_id("A" * 36) == "A" * 36
    for bad in ("", "A" * 37, "sd.a1", "sd:a1", "sd/a1", "é", "sd a1"):
        assert not is_valid_client_order_id(bad)
        with pytest.raises(ValueError, match="must be 1-36 characters"):
            validate_client_order_id(bad)


def test_parse() -> None:
    assert parse_client_order_id("sd-a1-42") == ParsedClientOrderId("sd", "a1", 42)
    for other in (
        "sd-a1",
        "sd-a1-0",
        "sd-a1-01",
        "sd-a1-x",
        "sd-a_1-3",
        "sd--3",
        "a-b-c-1",
        "sd-a1-4 ",
    ):
        assert parse_client_order_id(other) is None
