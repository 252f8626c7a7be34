"""The redactor: each pattern, secrets known by value in their usual encodings, the logging
filter (message, arguments, traceback, stack) and tracebacks without local variables."""

from __future__ import annotations

import base64
import io
import logging
import urllib.parse

import pytest
from pydantic import SecretStr

from engine.security.redact import (
    MASK,
    PEM_MASK,
    SIGNED_QUERY_MASK,
    RedactingFilter,
    Redactor,
    installed_redactor,
    is_secret_name,
    redacted_traceback,
)

HMAC_SECRET = "hmac-canary-0f1e2d3c4b5a6978"  # not key-shaped: only known by value
KEY_SHAPED = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz01"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIHq0d1xJ0gqZcW3o8F0mYJ7kq4sQGk1p9Yp0y1v4n2bA\n"
    "-----END PRIVATE KEY-----"
)
PEM_BODY = "MC4CAQAwBQYDK2VwBCIEIHq0d1xJ0gqZcW3o8F0mYJ7kq4sQGk1p9Yp0y1v4n2bA"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a signed request's whole query string
        (
            "GET http://127.0.0.1:8765/api/v3/order?symbol=BTCUSDT&timestamp=17&signature=9f8e",
            f"GET http://127.0.0.1:8765/api/v3/order{SIGNED_QUERY_MASK}",
        ),
        (
            "url='https://api.binance.com/api/v3/account?timestamp=1&signature=abc' status=400",
            f"url='https://api.binance.com/api/v3/account{SIGNED_QUERY_MASK}' status=400",
        ),
        # signature= in a body, and in JSON
        (
            "symbol=BTCUSDT&timestamp=1&signature=abc123",
            f"symbol=BTCUSDT&timestamp=1&signature={MASK}",
        ),
        ('{"signature":"abc","timestamp":1}', f'{{"signature":"{MASK}","timestamp":1}}'),
        # the API key header: dict repr and header text
        (
            "{'X-MBX-APIKEY': 'k-123', 'Accept': 'x'}",
            f"{{'X-MBX-APIKEY': '{MASK}', 'Accept': 'x'}}",
        ),
        ("X-MBX-APIKEY: k-123", f"X-MBX-APIKEY: {MASK}"),
        # secret-named fields, any prefix or case
        ('{"apiKey":"k","secretKey":"s"}', f'{{"apiKey":"{MASK}","secretKey":"{MASK}"}}'),
        (
            "api_key=k api_secret=s hmac_secret='t'",
            f"api_key={MASK} api_secret={MASK} hmac_secret='{MASK}'",
        ),
        ("private_key_pem: p password=q", f"private_key_pem: {MASK} password={MASK}"),
        # listen keys and tokens, as fields and as a stream URL path
        ('listenKey=abc {"listenToken": "tok"}', f'listenKey={MASK} {{"listenToken": "{MASK}"}}'),
        (
            "wss://stream.binance.com:9443/ws/pqia91ma19a5s61cv6a81va65sdf19v8a65a1 closed",
            f"wss://stream.binance.com:9443/ws/{MASK} closed",
        ),
        # a PEM block, whole or cut off
        (f"key {PEM} end", f"key {PEM_MASK} end"),
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQAw", PEM_MASK),
        # a Binance-shaped key or secret anywhere
        (f"using {KEY_SHAPED}.", f"using {MASK}."),
    ],
)
def test_each_pattern_is_masked(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "BUY 0.01000 BTCUSDT at 90000.5 filled; fee 0.00001 BNB",
        "wss://stream.binance.com:9443/ws/btcusdt@trade",
        "client order id sd-tozyy32-1, order 123456789",
        "sha256 " + "ab12" * 16,  # a lone-case hex digest is not a key
        "the secret file is private",  # a word, not a field
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_known_secrets_are_masked_as_is_url_encoded_and_in_base64() -> None:
    secret = "canary/secret+with=signs"
    redactor = Redactor([SecretStr(secret), None, "short"])
    forms = [
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
    ]
    for form in forms:
        assert redactor.redact(f"<{form}>") in (f"<{MASK}>", f"<{MASK}=>", f"<{MASK}==>")
    assert redactor.redact("short") == "short"  # too short to mask by value: noise, no safety


def test_a_pem_is_masked_line_by_line_however_it_is_quoted() -> None:
    redactor = Redactor([PEM])
    assert redactor.redact(f"pem={PEM_BODY!r}") == f"pem='{MASK}'"
    escaped = PEM.replace("\n", "\\n")  # a repr or JSON of the PEM text
    assert PEM_BODY not in redactor.redact(escaped)


def test_secret_names() -> None:
    assert [is_secret_name(n) for n in ("api_key", "X-MBX-APIKEY", "apiSecret", "symbol")] == [
        True,
        True,
        True,
        False,
    ]


def test_the_filter_redacts_message_arguments_traceback_and_stack() -> None:
    redactor = Redactor([HMAC_SECRET])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    logger = logging.getLogger("tests.records.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("secret %s in %s", HMAC_SECRET, {"apiKey": "k1"})
        try:
            raise RuntimeError(f"failed with {HMAC_SECRET}")
        except RuntimeError:
            logger.exception("signed %s", "?timestamp=1&signature=ff")
        logger.warning("stacked %s", HMAC_SECRET, stack_info=True)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    assert HMAC_SECRET not in text
    assert "k1" not in text and "signature=ff" not in text
    assert text.startswith(f"WARNING secret {MASK} in {{'apiKey': '{MASK}'}}\n")
    assert f"RuntimeError: failed with {MASK}" in text
    assert f"ERROR signed {SIGNED_QUERY_MASK}\nTraceback (most recent call last):" in text
    assert f"WARNING stacked {MASK}\nStack (most recent call last):" in text


def test_a_traceback_has_no_local_variables_and_no_secret() -> None:
    def fail(api_secret: str) -> None:
        held = api_secret * 2
        raise ValueError(f"cannot sign with {api_secret}: {len(held)}")

    try:
        fail(HMAC_SECRET)
    except ValueError as error:
        text = redacted_traceback(error, Redactor([HMAC_SECRET]))
    assert HMAC_SECRET not in text
    assert "api_secret =" not in text and "held =" not in text  # no locals, ever
    assert text.endswith(f"ValueError: cannot sign with {MASK}: 56\n")


def test_without_a_redactor_the_installed_one_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    handler.addFilter(RedactingFilter(Redactor([HMAC_SECRET])))
    root.addHandler(handler)
    try:
        assert installed_redactor().redact(HMAC_SECRET) == MASK
        assert redacted_traceback(ValueError(HMAC_SECRET)).endswith(f"ValueError: {MASK}\n")
    finally:
        root.removeHandler(handler)
    assert installed_redactor().redact(HMAC_SECRET) == HMAC_SECRET  # patterns only
    assert installed_redactor().redact(KEY_SHAPED) == MASK


async def test_a_verbose_python_binance_client_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verbose mode logs request headers (the API key) and bodies: building one fails (S11)."""
    from engine.config import Mode
    from engine.venue import client as venue_client
    from engine.venue.budget import RateBudget
    from engine.venue.endpoints import Credentials, endpoints_for
    from engine.venue.timing import SystemClock

    built = venue_client.VenueClient.__init__
    made: list[venue_client.VenueClient] = []

    def verbose_init(self: venue_client.VenueClient, *args: object, **kwargs: object) -> None:
        built(self, *args, **kwargs)
        self.verbose = True  # as if someone turned it on
        made.append(self)

    monkeypatch.setattr(venue_client.VenueClient, "__init__", verbose_init)
    credentials = Credentials(SecretStr("k" * 64), api_secret=SecretStr(HMAC_SECRET))
    with pytest.raises(RuntimeError, match="never run in verbose mode"):
        venue_client.build_client(
            endpoints_for(Mode.SIM, "http://127.0.0.1:9"),
            credentials,
            RateBudget(SystemClock()),
            request_timeout=1.0,
        )
    for client in made:
        await client.close_connection()
