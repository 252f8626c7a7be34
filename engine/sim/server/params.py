"""Request parameters as Binance reads them: query string plus form body, and the signed payload."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from engine.sim.core.errors import SimError

SIGNATURE = "signature"


@dataclass(frozen=True)
class RequestParams:
    """What a REST request carried.

    `params` holds every parameter as a decoded string (the query string wins over the body, as
    on Binance); `payload` is the exact bytes the client had to sign (query string concatenated
    to the body without a separator, the `signature` pair removed); `signature` is the
    percent-decoded signature value, or None.
    """

    params: dict[str, str]
    payload: bytes
    signature: str | None


def _pairs(raw: str) -> list[tuple[str, str, str]]:
    """Split `k=v&...` into (name, decoded value, raw segment); empty segments are skipped."""
    found: list[tuple[str, str, str]] = []
    for segment in raw.split("&"):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        found.append((unquote_plus(name), unquote_plus(value), segment))
    return found


def _duplicate() -> SimError:
    return SimError(-1101, "Duplicate values for a parameter detected.")


def parse_request(raw_query: str, body: bytes) -> RequestParams:
    """Parse a request's raw (percent-encoded) query string and form body.

    Raises -1101 when one source repeats a parameter.
    """
    body_text = body.decode("utf-8", errors="surrogateescape")
    params: dict[str, str] = {}
    signature: str | None = None
    payload_parts: list[bytes] = []
    for source in (raw_query, body_text):
        seen: set[str] = set()
        kept: list[str] = []
        for name, value, segment in _pairs(source):
            if name in seen:
                raise _duplicate()
            seen.add(name)
            if name == SIGNATURE:
                if signature is None:
                    # Not unquote_plus: a base64 "+" must arrive percent-encoded, as on Binance.
                    signature = unquote(segment.partition("=")[2])
                continue
            kept.append(segment)
            params.setdefault(name, value)  # the query string was read first and wins
        payload_parts.append("&".join(kept).encode("utf-8", errors="surrogateescape"))
    return RequestParams(params=params, payload=b"".join(payload_parts), signature=signature)
