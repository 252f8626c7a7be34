"""Endpoints per mode, credentials, the Ed25519 PEM reader and the client's construction."""

from __future__ import annotations

import pathlib
import random

import pytest
from Crypto.PublicKey import ECC
from pydantic import SecretStr

from engine.config import Mode
from engine.venue.budget import RateBudget
from engine.venue.client import RECV_WINDOW_MS, TrackedWebsocketAPI, build_client
from engine.venue.endpoints import Credentials, endpoints_for, read_private_key_pem
from engine.venue.timing import Backoff


def test_sim_endpoints_follow_the_loopback_url() -> None:
    ep = endpoints_for(Mode.SIM, "http://127.0.0.1:8765/")
    assert (ep.rest_url, ep.sapi_url, ep.ws_api_url, ep.stream_url) == (
        "http://127.0.0.1:8765/api",
        "http://127.0.0.1:8765/sapi",
        "ws://127.0.0.1:8765/ws-api/v3",
        "ws://127.0.0.1:8765/",
    )


def test_testnet_and_live_endpoints() -> None:
    testnet = endpoints_for(Mode.TESTNET)
    assert (testnet.rest_url, testnet.sapi_url, testnet.ws_api_url, testnet.stream_url) == (
        "https://testnet.binance.vision/api",
        None,
        "wss://ws-api.testnet.binance.vision/ws-api/v3",
        "wss://stream.testnet.binance.vision/",
    )
    live = endpoints_for(Mode.LIVE, "http://127.0.0.1:1")  # a sim URL never redirects LIVE
    assert (live.rest_url, live.sapi_url, live.ws_api_url, live.stream_url) == (
        "https://api.binance.com/api",
        "https://api.binance.com/sapi",
        "wss://ws-api.binance.com:443/ws-api/v3",
        "wss://stream.binance.com:9443/",
    )


@pytest.mark.parametrize(
    "url", [None, "https://127.0.0.1:1", "http://10.0.0.5:80", "http://127.0.0.1:80/api"]
)
def test_sim_mode_needs_a_plain_loopback_url(url: str | None) -> None:
    with pytest.raises(ValueError):
        endpoints_for(Mode.SIM, url)


def test_credentials_take_exactly_one_kind_of_secret_and_never_show_it() -> None:
    with pytest.raises(ValueError):
        Credentials(SecretStr("k"))
    with pytest.raises(ValueError):
        Credentials(SecretStr("k"), SecretStr("s"), SecretStr("p"))
    creds = Credentials(SecretStr("key-canary"), api_secret=SecretStr("secret-canary"))
    assert "canary" not in repr(creds) and "canary" not in str(creds)


def _write_pem(tmp_path: pathlib.Path, newline: str) -> pathlib.Path:
    pem = ECC.generate(curve="ed25519").export_key(format="PEM")
    path = tmp_path / "key.pem"
    path.write_bytes(("\n\n" + pem.replace("\n", newline) + newline + "  ").encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_pem_is_read_stripped_so_python_binance_sees_ed25519(
    tmp_path: pathlib.Path, newline: str
) -> None:
    secret = read_private_key_pem(_write_pem(tmp_path, newline))
    text = secret.get_secret_value()
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n") and "\r" not in text
    assert len(text) <= 120  # python-binance reads longer keys as RSA
    ECC.import_key(text)


def test_an_rsa_sized_or_encrypted_key_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nxx\n-----END ENCRYPTED PRIVATE KEY-----"
    )
    with pytest.raises(ValueError, match="encrypted"):
        read_private_key_pem(path)
    path.write_text("-----BEGIN PRIVATE KEY-----\n" + "A" * 200 + "\n-----END PRIVATE KEY-----")
    with pytest.raises(ValueError):
        read_private_key_pem(path)


async def test_the_client_uses_our_urls_recv_window_and_no_verbose(
    tmp_path: pathlib.Path, clock: object
) -> None:
    ep = endpoints_for(Mode.SIM, "http://127.0.0.1:9")
    pem = read_private_key_pem(_write_pem(tmp_path, "\n"))
    client = build_client(
        ep, Credentials(SecretStr("k"), private_key_pem=pem), RateBudget(clock), request_timeout=3.0
    )  # type: ignore[arg-type]
    try:
        assert client.API_URL == "http://127.0.0.1:9/api"
        assert client.MARGIN_API_URL == "http://127.0.0.1:9/sapi"
        assert isinstance(client.ws_api, TrackedWebsocketAPI)
        assert client.ws_api._url == "ws://127.0.0.1:9/ws-api/v3"
        assert client._create_api_uri("order") == "http://127.0.0.1:9/api/v3/order"
        assert (client.REQUEST_RECVWINDOW, RECV_WINDOW_MS, client.REQUEST_TIMEOUT) == (
            5000,
            5000,
            3.0,
        )
        assert client.verbose is False and client.testnet is False
        assert client._is_rsa is False and client.PRIVATE_KEY is not None
        assert client.session._retry_connection is False
    finally:
        await client.close_connection()


def test_backoff_grows_to_the_cap_with_jitter_from_the_rng() -> None:
    backoff = Backoff(random.Random(7), base=1.0, cap=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    rng = random.Random(7)
    expected = [min(8.0, 2.0**n) * (0.5 + rng.random() / 2) for n in range(6)]
    assert delays == expected
    assert all(0.5 * min(8.0, 2.0**n) <= d < min(8.0, 2.0**n) for n, d in enumerate(delays))
    backoff.reset()
    assert backoff.next_delay() < 1.0
