"""Signed-request checks: key, permissions, timestamp and recvWindow, HMAC and Ed25519."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from engine.sim.core.clock import ManualClock
from engine.sim.core.errors import SimError
from engine.sim.server.auth import Authenticator, ws_signature_payload
from engine.sim.server.params import parse_request

NOW = 1_767_225_600_000
SECRET = "s" * 64


@dataclass
class Key:
    account_id: int
    hmac_secret: str | None = None
    ed25519_public_key_pem: str | None = None


ED_PRIVATE = ECC.generate(curve="ed25519")
KEYS = {
    "hmackey": Key(1, hmac_secret=SECRET),
    "edkey": Key(2, ed25519_public_key_pem=ED_PRIVATE.public_key().export_key(format="PEM")),
}


def authenticator(now: int = NOW) -> Authenticator:
    return Authenticator(KEYS.get, ManualClock(now))


def hmac_query(params: str, secret: str = SECRET) -> str:
    signature = hmac.new(secret.encode(), params.encode(), hashlib.sha256).hexdigest()
    return f"{params}&signature={signature}"


def check(query: str, key: str | None = "hmackey", now: int = NOW) -> int:
    parsed = parse_request(query, b"")
    return (
        authenticator(now)
        .authenticate(key, parsed.params, parsed.payload, parsed.signature)
        .account_id
    )


def error_of(*args: Any, **kwargs: Any) -> tuple[int, str, int]:
    with pytest.raises(SimError) as caught:
        check(*args, **kwargs)
    return caught.value.code, caught.value.msg, caught.value.http_status


def test_hmac_signature_is_verified_case_insensitively() -> None:
    query = hmac_query(f"symbol=BTCUSDT&timestamp={NOW}")
    assert check(query) == 1
    params, _, signature = query.partition("&signature=")
    assert signature != signature.upper()
    assert check(f"{params}&signature={signature.upper()}") == 1


def test_wrong_signature_is_1022() -> None:
    query = hmac_query(f"timestamp={NOW}", secret="other")
    assert error_of(query) == (-1022, "Signature for this request is not valid.", 400)


def test_signature_covers_the_encoded_bytes_as_sent() -> None:
    # Signing the raw text but sending it percent-encoded fails, as on Binance since 2026-01.
    raw = f"newClientOrderId=a:b&timestamp={NOW}"
    signature = hmac.new(SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
    sent = f"newClientOrderId=a%3Ab&timestamp={NOW}&signature={signature}"
    assert error_of(sent)[0] == -1022
    assert check(hmac_query(f"newClientOrderId=a%3Ab&timestamp={NOW}")) == 1


def test_missing_or_malformed_key_is_2014_and_unknown_key_2015() -> None:
    query = hmac_query(f"timestamp={NOW}")
    assert error_of(query, key=None) == (-2014, "API-key format invalid.", 401)
    assert error_of(query, key="bad key!") == (-2014, "API-key format invalid.", 401)
    assert error_of(query, key="unknown") == (
        -2015,
        "Invalid API-key, IP, or permissions for action.",
        401,
    )


def test_timestamp_is_mandatory() -> None:
    assert error_of(hmac_query("symbol=BTCUSDT")) == (
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        400,
    )


def test_signature_is_mandatory() -> None:
    assert error_of(f"timestamp={NOW}")[:2] == (
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    )


def test_timestamp_a_second_ahead_is_rejected() -> None:
    assert check(hmac_query(f"timestamp={NOW + 999}")) == 1
    assert error_of(hmac_query(f"timestamp={NOW + 1000}")) == (
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
        400,
    )


def test_timestamp_older_than_recv_window_is_rejected() -> None:
    assert check(hmac_query(f"timestamp={NOW - 5000}")) == 1
    assert error_of(hmac_query(f"timestamp={NOW - 5001}")) == (
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
        400,
    )
    assert check(hmac_query(f"recvWindow=10000&timestamp={NOW - 9000}")) == 1
    assert check(hmac_query(f"recvWindow=1.5&timestamp={NOW * 1000 - 1500}")) == 1
    assert error_of(hmac_query(f"recvWindow=1.5&timestamp={NOW * 1000 - 1501}"))[0] == -1021


def test_recv_window_above_60000_is_1131() -> None:
    assert check(hmac_query(f"recvWindow=60000&timestamp={NOW}")) == 1
    assert error_of(hmac_query(f"recvWindow=60001&timestamp={NOW}")) == (
        -1131,
        "recvWindow must be less than 60000",
        400,
    )


def test_ed25519_signature_base64_percent_encoded() -> None:
    payload = f"symbol=BTCUSDT&timestamp={NOW}"
    raw = eddsa.new(ED_PRIVATE, "rfc8032").sign(payload.encode())
    signature = quote(base64.b64encode(raw).decode(), safe="")
    assert check(f"{payload}&signature={signature}", key="edkey") == 2
    tampered = f"symbol=ETHUSDT&timestamp={NOW}&signature={signature}"
    assert error_of(tampered, key="edkey")[0] == -1022
    assert error_of(f"{payload}&signature=not-base64", key="edkey")[0] == -1022


def test_ws_payload_is_sorted_raw_pairs_without_signature() -> None:
    params = {"timestamp": 5, "apiKey": "k", "signature": "x", "recvWindow": 100}
    assert ws_signature_payload(params) == b"apiKey=k&recvWindow=100&timestamp=5"
