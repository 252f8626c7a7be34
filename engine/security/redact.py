"""Masking secrets in text before it reaches a log, a terminal or a crash report (S10, S12).

A `Redactor` masks the secrets it knows by value (the configured API key and secret, the
Ed25519 key file's PEM, in their URL-encoded and base64 forms too) and anything shaped like one:
Ed25519/RSA private key PEM blocks, signed query strings and `signature=` values, the
X-MBX-APIKEY header, apiKey/secret/listenKey/listenToken fields in JSON, dicts and queries,
listen keys in stream URLs, and 64-character mixed-case tokens (Binance API keys and HMAC
secrets). `RedactingFilter` applies it to every log record on a handler, traceback included;
`redacted_traceback(exc)` formats an exception without local variables, redacted.
"""

from __future__ import annotations

import base64
import logging
import re
import traceback
import urllib.parse
from collections.abc import Iterable

from pydantic import SecretStr

MASK = "***"
SIGNED_QUERY_MASK = "?<signed query: ***>"
PEM_MASK = "-----BEGIN PRIVATE KEY----- *** -----END PRIVATE KEY-----"
# Known values shorter than this are not masked by value: masking "ab" everywhere would
# shred the log and protect nothing (the patterns still apply).
MIN_SECRET_LENGTH = 8
_MIN_PEM_LINE = 16

_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
# The whole query string of a signed request: its parameters are what the signature signs.
_SIGNED_QUERY = re.compile(r"\?[^\s\"'<>#]*?\bsignature=[^\s\"'<>#]*")
# Names of fields that hold secrets, whatever their prefix or casing: api_key, X-MBX-APIKEY,
# apiSecret, hmac_secret, signature, listenKey, listenToken, private_key_pem, password...
_SECRET_WORDS = (
    r"secret|api[_-]?key|signature|listen[_-]?key|listen[_-]?token|private[_-]?key|password"
    r"|passphrase"
)
_SECRET_NAME = re.compile(_SECRET_WORDS, re.I)
_SECRET_FIELD = re.compile(
    rf"""(?P<name>["']?(?<![\w-])[\w-]*(?:{_SECRET_WORDS})[\w-]*["']?\s*[:=]\s*["']?)"""
    r"""(?P<value>[^"'\s,&;)}\]]+)""",
    re.I,
)
# A user data stream's listen key as a URL path (`/ws/<listenKey>`); market streams carry an
# `@` (btcusdt@trade) or are short, so they stay readable.
_LISTEN_KEY_PATH = re.compile(r"(?P<name>/ws/)(?P<value>[A-Za-z0-9]{30,})(?![A-Za-z0-9@])")
# Binance API keys and HMAC secrets: 64 letters and digits, both cases. Hex digests (a lone
# case) are left alone unless they sit in a signature field above.
_KEY_SHAPE = re.compile(
    r"(?<![A-Za-z0-9])(?=[a-z0-9]*[A-Z])(?=[A-Z0-9]*[a-z])[A-Za-z0-9]{64}(?![A-Za-z0-9])"
)


def is_secret_name(name: str) -> bool:
    """Whether a field called `name` holds a secret (its value is masked whatever it is)."""
    return _SECRET_NAME.search(name) is not None


def _field(match: re.Match[str]) -> str:
    return match.group("name") + MASK


class Redactor:
    """Masks known secret values and secret-shaped text; add values with `add()`."""

    def __init__(self, secrets: Iterable[str | SecretStr | None] = ()) -> None:
        self._known: set[str] = set()
        self._known_pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    @property
    def known_count(self) -> int:
        """How many value forms are masked by value (tests and diagnostics)."""
        return len(self._known)

    def add(self, *secrets: str | SecretStr | None) -> None:
        """Mask these values from now on, with their URL-encoded and base64 forms; a PEM's
        base64 lines are masked one by one, so a PEM split or escaped differently is caught."""
        for secret in secrets:
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            if value:
                self._known.update(_forms(value.strip()))
        forms = sorted(self._known, key=len, reverse=True)  # longest first: no partial masks
        self._known_pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def redact(self, text: str) -> str:
        """`text` with every secret it holds replaced by `***`."""
        if self._known_pattern is not None:
            text = self._known_pattern.sub(MASK, text)
        text = _PEM_BLOCK.sub(PEM_MASK, text)
        text = _SIGNED_QUERY.sub(SIGNED_QUERY_MASK, text)
        text = _SECRET_FIELD.sub(_field, text)
        text = _LISTEN_KEY_PATH.sub(_field, text)
        return _KEY_SHAPE.sub(MASK, text)


def _forms(value: str) -> set[str]:
    """The forms a secret is likely to be written in: as is, URL-encoded, base64."""
    found: set[str] = set()
    if "PRIVATE KEY" in value:
        body = [line.strip() for line in value.splitlines() if "-----" not in line]
        found.update(line for line in body if len(line) >= _MIN_PEM_LINE)
        joined = "".join(body)
        if len(joined) >= _MIN_PEM_LINE:
            found.add(joined)
    if len(value) < MIN_SECRET_LENGTH:
        return found
    raw = value.encode()
    found.update(
        {
            value,
            urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        }
    )
    return found


class RedactingFilter(logging.Filter):
    """Redacts a record in place before a handler formats it: message, arguments, traceback
    (formatted without locals) and stack. Put one on every handler; it never drops a record."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "spotdesk_redacted", False):
            return True  # another handler's filter did it already
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.redact(
                "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            )
        elif record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        record.spotdesk_redacted = True
        return True


def installed_redactor() -> Redactor:
    """The redactor that logging was set up with (`engine.logs`), else one that knows only the
    patterns: what the desk and crash handlers use when nobody hands them one."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RedactingFilter):
                return found.redactor
    return Redactor()


def redacted_traceback(exc: BaseException, redactor: Redactor | None = None) -> str:
    """The exception's traceback as Python prints it (no local variables), redacted: for crash
    screens and crash reports. Without `redactor`, the one logging was set up with."""
    text = "".join(traceback.format_exception(exc))
    return (redactor or installed_redactor()).redact(text)
