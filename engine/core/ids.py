"""Client order ids: ours, valid on the wire, unique forever (also across restarts, R8).

An id is `<prefix>-<instance tag>-<counter>`, e.g. `sd-a1-1042`. The prefix marks every order
this desk places (reconciliation adopts unknown orders carrying it); the instance tag names the
journal (mode and account), so two journals never hand out the same id; the counter only grows
and is restored at start from the highest id the journal, and the exchange, have seen. The
same inputs always give the same ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_CLIENT_ORDER_ID_LENGTH = 36
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
_PART = re.compile(r"[A-Za-z0-9]{1,12}")


def is_valid_client_order_id(value: str) -> bool:
    """Whether Binance takes `value` as a client order id without any encoding trouble."""
    return _CLIENT_ORDER_ID.fullmatch(value) is not None


def validate_client_order_id(value: str) -> str:
    """`value` itself, or ValueError saying what is wrong with it."""
    if not is_valid_client_order_id(value):
        raise ValueError(
            f"client order id {value!r:.60} must be 1-{MAX_CLIENT_ORDER_ID_LENGTH} characters "
            "of A-Z, a-z, 0-9, '_' and '-'"
        )
    return value


@dataclass(frozen=True, slots=True)
class ParsedClientOrderId:
    prefix: str
    instance_tag: str
    counter: int


class ClientOrderIdGenerator:
    """Hands out `<prefix>-<tag>-<counter>` ids; the counter never repeats a value."""

    def __init__(self, prefix: str, instance_tag: str, next_counter: int = 1) -> None:
        for name, part in (("prefix", prefix), ("instance tag", instance_tag)):
            if _PART.fullmatch(part) is None:
                raise ValueError(f"{name} {part!r:.40} must be 1-12 letters or digits")
        if next_counter < 1:
            raise ValueError("the counter starts at 1")
        self.prefix = prefix
        self.instance_tag = instance_tag
        self._head = f"{prefix}-{instance_tag}-"
        # Parts of at most 12 characters leave room for a counter of at least 10 digits.
        self.max_counter = 10 ** (MAX_CLIENT_ORDER_ID_LENGTH - len(self._head)) - 1
        self._next = next_counter

    @classmethod
    def restored(
        cls, prefix: str, instance_tag: str, used_ids: Iterable[str]
    ) -> ClientOrderIdGenerator:
        """A generator continuing after the highest counter among `used_ids` of this instance.

        Feed it every id the journal holds, plus those found at the exchange during
        reconciliation: then even a journal that lost its tail cannot make an id come back.
        """
        highest = 0
        for value in used_ids:
            parsed = parse_client_order_id(value)
            if parsed and parsed.prefix == prefix and parsed.instance_tag == instance_tag:
                highest = max(highest, parsed.counter)
        return cls(prefix, instance_tag, highest + 1)

    @property
    def next_counter(self) -> int:
        """The counter the next id will carry (what the journal should remember)."""
        return self._next

    def peek(self) -> str:
        return self._format(self._next)

    def next(self) -> str:
        value = self._format(self._next)
        self._next += 1
        return value

    def is_ours(self, client_order_id: str) -> bool:
        """Whether an id carries this desk's prefix (any instance tag)."""
        return client_order_id.startswith(f"{self.prefix}-")

    def _format(self, counter: int) -> str:
        if counter > self.max_counter:
            raise OverflowError(f"client order id counter exhausted at {counter}")
        return f"{self._head}{counter}"


def parse_client_order_id(value: str) -> ParsedClientOrderId | None:
    """The parts of one of our ids, or None when `value` does not have our shape."""
    parts = value.split("-")
    if len(parts) != 3 or not is_valid_client_order_id(value):
        return None
    prefix, tag, counter = parts
    if _PART.fullmatch(prefix) is None or _PART.fullmatch(tag) is None:
        return None
    if not counter.isdigit() or counter.startswith("0"):
        return None
    return ParsedClientOrderId(prefix, tag, int(counter))
