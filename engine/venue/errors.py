"""The venue's error taxonomy: every failure of a request sorted by what it proves about the order.

RELIABILITY.md R2: an outcome is definitely rejected, unknown, or (for connection failures before
any byte left) provably not sent; rate limits and authentication failures get their own classes
because the engine reacts to them differently (back off; stop and tell the operator).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiohttp
from binance.exceptions import (
    BinanceAPIException,
    BinanceRequestException,
    BinanceWebsocketUnableToConnect,
)

# Binance codes that say the key, its IP whitelist, its permissions or the signature is wrong.
AUTH_CODES = frozenset({-2014, -2015, -1022})
# Binance codes that say the execution status is unknown whatever the HTTP status.
UNKNOWN_CODES = frozenset({-1006, -1007})
# -1021: the timestamp was outside recvWindow; rejected before the matching engine.
TIMESTAMP_CODE = -1021
# 429 without Retry-After: weights reset each minute. 418 without it: the shortest ban is 2 min.
DEFAULT_RETRY_AFTER_429_S = 60.0
DEFAULT_RETRY_AFTER_418_S = 120.0

_QUERY = re.compile(r"\?[^\s'\"<>)]*")


class VenueError(Exception):
    """A failed venue request: Binance code (None when there is none), message, HTTP status."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [type(self).__name__]
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        return f"{' '.join(parts)}: {self.message}"


class Rejected(VenueError):
    """Definitely not executed: the exchange refused the request (filters, balance, unknown
    order, bad parameter ...)."""


class Unknown(VenueError):
    """The request may have reached the matching engine; settle it by querying, never by
    resending (R3).

    `server_time_ms` is the venue's estimate of the exchange's clock when the failure was seen
    (None outside the venue's request path): the request's timestamp was no later, so once the
    exchange's clock passes `server_time_ms + recv_window_ms` it can no longer be executed
    (RELIABILITY.md, proof of absence)."""

    server_time_ms: int | None = None
    recv_window_ms: int | None = None


class NotSent(VenueError):
    """The request provably never left this machine; safe to retry with the same client id."""


class RateLimited(VenueError):
    """429 or 418 (or refused locally while a limit or ban is running); not executed.

    `retry_after` is in seconds; `banned` is True for an IP ban (418)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        banned: bool,
        code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.retry_after = retry_after
        self.banned = banned


class AuthError(VenueError):
    """The key, signature, IP whitelist or permissions were refused; not executed."""


def redact(text: str) -> str:
    """Drop query strings (they carry signatures and timestamps) from text shown to anyone."""
    return _QUERY.sub("?...", text)


def retry_after_seconds(headers: Mapping[str, str] | None, status: int) -> float:
    """Retry-After in seconds, or the documented minimum for the status when it is missing."""
    default = DEFAULT_RETRY_AFTER_418_S if status == 418 else DEFAULT_RETRY_AFTER_429_S
    if not headers:
        return default
    raw = headers.get("Retry-After")
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


def classify(exc: BaseException) -> VenueError:
    """Sort any failure of a request into the taxonomy; messages never carry query strings."""
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, BinanceAPIException):
        return _classify_api(exc)
    if isinstance(exc, BinanceWebsocketUnableToConnect):
        text = redact(str(exc))
        # "Connection failed: ..." is raised before the request is written to the socket.
        if text.startswith("Connection failed"):
            return NotSent(f"WebSocket API: {text}")
        return Unknown(f"WebSocket API: {text or 'no reply'}")
    # Connector errors (refused, DNS, TLS handshake, connect timeout) happen before any byte of
    # the request is written. ConnectionTimeoutError is also a TimeoutError: test it first.
    if isinstance(
        exc,
        aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError | ConnectionRefusedError,
    ):
        return NotSent(f"{type(exc).__name__}: {redact(str(exc))}")
    if isinstance(exc, TimeoutError):
        return Unknown(f"no reply in time ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ClientError):
        return Unknown(
            f"{type(exc).__name__} after the request may have been sent: {redact(str(exc))}"
        )
    if isinstance(exc, BinanceRequestException | ValueError | KeyError | TypeError):
        # A 2xx reply we could not read (bad JSON, unexpected shape): the request was served.
        return Unknown(f"unreadable reply ({type(exc).__name__}): {redact(str(exc))[:200]}")
    return Unknown(f"unexpected failure ({type(exc).__name__}): {redact(str(exc))[:200]}")


def _classify_api(exc: BinanceAPIException) -> VenueError:
    status = int(exc.status_code) if exc.status_code is not None else None
    code = int(exc.code) if isinstance(exc.code, int) and exc.code != 0 else None
    message = redact(str(exc.message)) if code is not None and exc.message else ""
    if code is None:
        # python-binance puts a repr of the response (with the signed URL) in the message of a
        # non-JSON error body: say what happened instead.
        message = f"HTTP {status} without a Binance error body"
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if status in (429, 418):
        return RateLimited(
            message,
            retry_after=retry_after_seconds(headers, status),
            banned=status == 418,
            code=code,
            http_status=status,
        )
    if code in AUTH_CODES:
        return AuthError(message, code=code, http_status=status)
    if code in UNKNOWN_CODES or (status is not None and status >= 500) or code is None:
        return Unknown(message, code=code, http_status=status)
    return Rejected(message, code=code, http_status=status)
