"""Signed-request checks as Binance makes them: API key, signature (HMAC or Ed25519), timing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from engine.sim.core.clock import Clock
from engine.sim.core.errors import (
    MSG_BAD_KEY,
    MSG_BAD_SIGNATURE,
    MSG_TS_AHEAD,
    MSG_TS_OUTSIDE,
    SimError,
    mandatory,
)

DEFAULT_RECV_WINDOW_MS = Decimal(5000)
MAX_RECV_WINDOW_MS = Decimal(60000)
# Binance accepts timestamps in milliseconds or microseconds; a value this large is microseconds.
_MICROSECOND_THRESHOLD = 10**14
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{1,256}$")


class KeyRecord(Protocol):
    """What the core's ApiKey offers the server."""

    @property
    def account_id(self) -> int: ...
    @property
    def hmac_secret(self) -> str | None: ...
    @property
    def ed25519_public_key_pem(self) -> str | None: ...


@dataclass(frozen=True)
class Authorized:
    """A request that passed the checks: whose it is and the timing it asked for."""

    account_id: int
    api_key: str
    timestamp_us: int
    recv_window_us: int


def key_format_ok(api_key: str) -> bool:
    """Whether an API key has the shape Binance accepts (else -2014)."""
    return bool(_KEY_FORMAT.match(api_key))


def _bad_key_format() -> SimError:
    return SimError(-2014, "API-key format invalid.", 401)


def _rejected_key() -> SimError:
    return SimError(-2015, MSG_BAD_KEY, 401)


def parse_timestamp_us(raw: str | None) -> int:
    """The `timestamp` parameter in microseconds (-1102 if absent or malformed)."""
    if raw is None or not raw.isdigit():
        raise mandatory("timestamp")
    value = int(raw)
    return value if value >= _MICROSECOND_THRESHOLD else value * 1000


def parse_recv_window_us(raw: str | None) -> int:
    """The `recvWindow` parameter in microseconds: default 5000 ms, at most 60000 ms."""
    if raw is None:
        return int(DEFAULT_RECV_WINDOW_MS * 1000)
    try:
        window = Decimal(raw)
    except InvalidOperation:
        raise mandatory("recvWindow") from None
    exponent = window.as_tuple().exponent
    if not isinstance(exponent, int) or window <= 0 or exponent < -3:
        raise mandatory("recvWindow")
    if window > MAX_RECV_WINDOW_MS:
        raise SimError(-1131, "recvWindow must be less than 60000")
    return int(window * 1000)


def check_timing(now_ms: int, timestamp_us: int, recv_window_us: int) -> None:
    """Binance's rule: accept if timestamp < server + 1 s and server - timestamp <= recvWindow."""
    server_us = now_ms * 1000
    if timestamp_us >= server_us + 1_000_000:
        raise SimError(-1021, MSG_TS_AHEAD)
    if server_us - timestamp_us > recv_window_us:
        raise SimError(-1021, MSG_TS_OUTSIDE)


class Authenticator:
    """Verifies signed requests against the keys registered in the core, on the exchange clock."""

    def __init__(self, lookup: Callable[[str], KeyRecord | None], clock: Clock) -> None:
        self._lookup = lookup
        self._clock = clock
        self._ed25519_keys: dict[str, ECC.EccKey] = {}

    def key(self, api_key: str | None) -> KeyRecord:
        """The registered key, or -2014 (malformed or missing) / -2015 (unknown)."""
        if not api_key or not key_format_ok(api_key):
            raise _bad_key_format()
        record = self._lookup(api_key)
        if record is None:
            raise _rejected_key()
        return record

    def authenticate(
        self,
        api_key: str | None,
        params: Mapping[str, str],
        payload: bytes,
        signature: str | None,
    ) -> Authorized:
        """Check key, timing and signature of a SIGNED request; raise what Binance would answer.

        Permissions are the exchange's business (`Exchange.authorize`).
        """
        record = self.key(api_key)
        assert api_key is not None
        timestamp_us = parse_timestamp_us(params.get("timestamp"))
        recv_window_us = parse_recv_window_us(params.get("recvWindow"))
        if not signature:
            raise mandatory("signature")
        check_timing(self._clock.now_ms(), timestamp_us, recv_window_us)
        if not self.signature_valid(record, payload, signature):
            raise SimError(-1022, MSG_BAD_SIGNATURE)
        return Authorized(record.account_id, api_key, timestamp_us, recv_window_us)

    def recheck_timing(self, authorized: Authorized) -> None:
        """The second check Binance makes just before a request reaches the matching engine."""
        check_timing(self._clock.now_ms(), authorized.timestamp_us, authorized.recv_window_us)

    def signature_valid(self, record: KeyRecord, payload: bytes, signature: str) -> bool:
        """HMAC-SHA256 hex (case-insensitive) or Ed25519 base64 over the payload bytes."""
        if record.hmac_secret is not None:
            expected = hmac.new(record.hmac_secret.encode(), payload, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature.lower())
        if record.ed25519_public_key_pem is not None:
            try:
                raw = base64.b64decode(signature, validate=True)
                verifier = eddsa.new(self._ed25519_key(record.ed25519_public_key_pem), "rfc8032")
                verifier.verify(payload, raw)
            except (ValueError, binascii.Error):
                return False
            return True
        return False

    def _ed25519_key(self, pem: str) -> ECC.EccKey:
        key = self._ed25519_keys.get(pem)
        if key is None:
            key = ECC.import_key(pem)
            self._ed25519_keys[pem] = key
        return key


def ws_signature_payload(params: Mapping[str, Any]) -> bytes:
    """The WebSocket API's signed payload: params but `signature`, sorted by name, `k=v&...`.

    Binance signs the raw values (no percent-encoding); python-binance url-encodes them, which
    only differs for characters outside [A-Za-z0-9._~-], which API keys and timestamps never use.
    """
    pairs = sorted((k, v) for k, v in params.items() if k != "signature")
    return "&".join(f"{k}={_ws_value(v)}" for k, v in pairs).encode()


def _ws_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
