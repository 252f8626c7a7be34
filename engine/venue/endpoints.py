"""Where the venue connects (per mode) and with which keys, kept as SecretStr until the client is
built."""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from engine.config import Mode

_SIM_URL = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$")


@dataclass(frozen=True)
class Endpoints:
    """Base URLs in python-binance's shapes: REST ends in `/api`, sapi in `/sapi` (None where the
    venue has none: the testnet), the stream URL ends in `/`."""

    mode: Mode
    rest_url: str
    sapi_url: str | None
    ws_api_url: str
    stream_url: str


LIVE = Endpoints(
    mode=Mode.LIVE,
    rest_url="https://api.binance.com/api",
    sapi_url="https://api.binance.com/sapi",
    ws_api_url="wss://ws-api.binance.com:443/ws-api/v3",
    stream_url="wss://stream.binance.com:9443/",
)

TESTNET = Endpoints(
    mode=Mode.TESTNET,
    rest_url="https://testnet.binance.vision/api",
    sapi_url=None,
    ws_api_url="wss://ws-api.testnet.binance.vision/ws-api/v3",
    stream_url="wss://stream.testnet.binance.vision/",
)


def hosts_of(endpoints: Endpoints) -> frozenset[str]:
    """The host names these endpoints reach (LIVE_HOSTS: the ones that trade real money)."""
    urls = (endpoints.rest_url, endpoints.sapi_url, endpoints.ws_api_url, endpoints.stream_url)
    return frozenset(urlsplit(url).hostname or "" for url in urls if url is not None)


LIVE_HOSTS = hosts_of(LIVE)


def endpoints_for(mode: Mode, sim_url: str | None = None) -> Endpoints:
    """The endpoints of a mode; SIM needs the embedded exchange's loopback URL
    (`http://127.0.0.1:PORT`)."""
    if mode is Mode.LIVE:
        return LIVE
    if mode is Mode.TESTNET:
        return TESTNET
    if sim_url is None:
        raise ValueError("SIM mode needs the embedded exchange's URL")
    base = sim_url.rstrip("/")
    if not _SIM_URL.match(base):
        # The embedded exchange is only ever reached over loopback and plain HTTP.
        raise ValueError("the embedded exchange URL must be http://127.0.0.1:PORT")
    host_port = base.removeprefix("http://")
    return Endpoints(
        mode=Mode.SIM,
        rest_url=f"{base}/api",
        sapi_url=f"{base}/sapi",
        ws_api_url=f"ws://{host_port}/ws-api/v3",
        stream_url=f"ws://{host_port}/",
    )


@dataclass(frozen=True)
class Credentials:
    """An API key with either an HMAC secret or an Ed25519 private key (PEM)."""

    api_key: SecretStr
    api_secret: SecretStr | None = None
    private_key_pem: SecretStr | None = None

    def __post_init__(self) -> None:
        if (self.api_secret is None) == (self.private_key_pem is None):
            raise ValueError("give exactly one of an HMAC secret and an Ed25519 private key")

    def __repr__(self) -> str:
        kind = "ed25519" if self.private_key_pem is not None else "hmac"
        return f"Credentials(kind={kind})"


def read_private_key_pem(path: pathlib.Path) -> SecretStr:
    """Read an Ed25519 private key PEM (unencrypted PKCS#8) for Credentials.

    Surrounding whitespace is stripped and CRLF becomes LF: python-binance treats any key longer
    than 120 characters as RSA, and a CRLF Ed25519 PEM is 122. Call it at startup (blocking I/O)."""
    text = path.read_text(encoding="ascii").replace("\r\n", "\n").strip()
    if "ENCRYPTED" in text:
        raise ValueError("encrypted private keys are not supported; use an unencrypted PKCS#8 PEM")
    if len(text) > 120 or "PRIVATE KEY" not in text:
        raise ValueError(f"{path.name} does not look like an Ed25519 private key PEM")
    return SecretStr(text)
