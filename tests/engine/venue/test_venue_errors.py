"""The error taxonomy on python-binance's and aiohttp's own exception objects."""

from __future__ import annotations

import json
import socket
from typing import Any

import aiohttp
import pytest
from binance.exceptions import (
    BinanceAPIException,
    BinanceRequestException,
    BinanceWebsocketUnableToConnect,
)

from engine.core.wire import MalformedPayload
from engine.venue.errors import (
    AuthError,
    NotSent,
    RateLimited,
    Rejected,
    Unknown,
    classify,
    redact,
)


class _Response:
    """The part of an aiohttp response BinanceAPIException keeps."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}
        self.text = "<bound method ClientResponse.text of <ClientResponse(http://h/api/v3/order?symbol=X&signature=abc)>>"


def api_error(status: int, code: int | None, msg: str = "m", **headers: str) -> Any:
    text = json.dumps({"code": code, "msg": msg}) if code is not None else "<html>502</html>"
    return BinanceAPIException(_Response(headers), status, text)


@pytest.mark.parametrize("code", [-2010, -1013, -2011, -2013, -1102, -1111, -1121, -1021])
def test_4xx_with_a_binance_code_is_rejected(code: int) -> None:
    error = classify(api_error(400, code, "Filter failure: LOT_SIZE"))
    assert type(error) is Rejected
    assert (error.code, error.http_status, error.message) == (code, 400, "Filter failure: LOT_SIZE")


@pytest.mark.parametrize(("status", "code"), [(401, -2015), (401, -2014), (400, -1022)])
def test_key_and_signature_failures_are_auth_errors(status: int, code: int) -> None:
    error = classify(api_error(status, code))
    assert type(error) is AuthError
    assert (error.code, error.http_status) == (code, status)


@pytest.mark.parametrize(
    ("status", "code"), [(503, -1007), (500, -1006), (400, -1006), (502, -1000), (504, None)]
)
def test_5xx_and_unknown_status_codes_are_unknown(status: int, code: int | None) -> None:
    error = classify(api_error(status, code))
    assert type(error) is Unknown
    assert (error.code, error.http_status) == (code, status)


def test_a_non_json_error_body_never_leaks_the_signed_url() -> None:
    error = classify(api_error(502, None))
    assert type(error) is Unknown
    assert error.message == "HTTP 502 without a Binance error body"
    assert "signature" not in str(error)


def test_429_and_418_carry_retry_after_and_the_ban() -> None:
    limited = classify(api_error(429, -1003, "Too much weight", **{"Retry-After": "7"}))
    assert type(limited) is RateLimited
    assert (limited.retry_after, limited.banned, limited.code, limited.http_status) == (
        7.0,
        False,
        -1003,
        429,
    )
    banned = classify(api_error(418, -1003, "IP banned", **{"Retry-After": "300"}))
    assert isinstance(banned, RateLimited)
    assert (banned.retry_after, banned.banned) == (300.0, True)
    # Without the header: the shortest documented wait for each status.
    assert isinstance(no_header := classify(api_error(429, -1015)), RateLimited)
    assert no_header.retry_after == 60.0
    assert isinstance(no_header_ban := classify(api_error(418, -1003)), RateLimited)
    assert no_header_ban.retry_after == 120.0


def test_websocket_api_failures() -> None:
    timed_out = classify(BinanceWebsocketUnableToConnect("Request timed out"))
    assert type(timed_out) is Unknown
    refused = classify(BinanceWebsocketUnableToConnect("Connection failed: [Errno 111]"))
    assert type(refused) is NotSent


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError(),
        aiohttp.SocketTimeoutError("read"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        aiohttp.ClientPayloadError("truncated"),
        BinanceRequestException("Invalid Response: {"),
        MalformedPayload("order: missing field 'status'"),
        RuntimeError("anything else"),
    ],
)
def test_failures_after_sending_are_unknown(exc: BaseException) -> None:
    assert type(classify(exc)) is Unknown


async def test_connection_refused_is_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await session.post(f"http://127.0.0.1:{port}/api/v3/order?signature=s3cr3t")
    error = classify(caught.value)
    assert type(error) is NotSent
    assert "s3cr3t" not in str(error)


def test_connect_timeout_is_not_sent_although_it_is_a_timeout() -> None:
    assert type(classify(aiohttp.ConnectionTimeoutError("connect"))) is NotSent


def test_redact_drops_query_strings() -> None:
    assert redact("GET http://h/api/v3/order?symbol=A&signature=abc failed") == (
        "GET http://h/api/v3/order?... failed"
    )


def test_str_names_class_status_and_code() -> None:
    assert str(Rejected("Unknown order sent.", code=-2011, http_status=400)) == (
        "Rejected http=400 code=-2011: Unknown order sent."
    )
