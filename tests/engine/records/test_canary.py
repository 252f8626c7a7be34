"""The canary test (RELIABILITY.md S10, S12-S14): unique fake secrets configured, the main flows
run, then every log, the journal, screenshots, exports, stdout and stderr searched for each
secret and its obvious encodings: no hit.

Secrets: an HMAC key and secret registered in the embedded exchange (the secret is not shaped
like a Binance key, so only the redactor's knowledge of the configured value can hide it) and an
Ed25519 key file. Flows: the engine started through the command line at DEBUG, orders (filled,
refused, rejected by the exchange, hit by a 502), a bad cancel, status, the desk through Pilot
(an order, the emergency modal, a screenshot), settings errors, forced crashes of a command,
`spotdesk config`, exports, a second engine signing with the Ed25519 key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import pathlib
import secrets
import shutil
import sys
import tempfile
import textwrap
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

import pytest
from Crypto.PublicKey import ECC

_TESTS = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(_TESTS / "engine" / "service"), str(_TESTS / "tui")]

from cli_testkit import Ran, cli_env, run_cli  # noqa: E402
from desk_testkit import QUICK_FEED, frozen_clock, until  # noqa: E402
from textual.widgets import Input  # noqa: E402

from engine import cli  # noqa: E402
from engine.service.control_client import SocketEngineClient  # noqa: E402
from engine.sim.runner import SimServer  # noqa: E402
from tui.app import DeskApp  # noqa: E402
from tui.screens.emergency import EmergencyScreen  # noqa: E402
from tui.screens.ticket import OrderTicket  # noqa: E402

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _key(prefix: str) -> str:
    """A unique 64-character key, Binance's shape."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(64 - len(prefix)))


@dataclass(frozen=True)
class Canaries:
    hmac_key: str
    hmac_secret: str  # lower-case hex with dashes: no pattern catches it, only its value
    ed_key: str
    ed_pem: str

    @classmethod
    def fresh(cls) -> Canaries:
        private = ECC.generate(curve="ed25519")
        return cls(
            _key("CanaryHmacKey"),
            f"canary-hmac-secret-{secrets.token_hex(16)}",
            _key("CanaryEdKey"),
            private.export_key(format="PEM"),
        )

    @property
    def ed_public_pem(self) -> str:
        return ECC.import_key(self.ed_pem).public_key().export_key(format="PEM")

    def needles(self) -> dict[str, bytes]:
        """Each secret as written, URL-encoded and in base64; the PEM also line by line."""
        found: dict[str, bytes] = {}
        pem_lines = [line for line in self.ed_pem.splitlines() if "-----" not in line]
        for name, value in (
            ("hmac key", self.hmac_key),
            ("hmac secret", self.hmac_secret),
            ("ed key", self.ed_key),
            ("ed pem", self.ed_pem),
            *((f"ed pem line {i}", line) for i, line in enumerate(pem_lines)),
        ):
            raw = value.encode()
            found[name] = raw
            found[f"{name} url-encoded"] = urllib.parse.quote(value, safe="").encode()
            found[f"{name} form-encoded"] = urllib.parse.quote_plus(value).encode()
            found[f"{name} base64"] = base64.b64encode(raw).rstrip(b"=")
            found[f"{name} base64url"] = base64.urlsafe_b64encode(raw).rstrip(b"=")
        return found


def search(
    needles: dict[str, bytes], roots: Iterable[pathlib.Path], outputs: dict[str, str]
) -> list[str]:
    """Where any needle appears: every file under `roots` (binary, the journal included) and
    every captured output. Empty means no leak."""
    hits: list[str] = []
    haystacks: list[tuple[str, bytes]] = [(f"output {k}", v.encode()) for k, v in outputs.items()]
    for root in roots:
        haystacks += [(str(p), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
    for where, data in haystacks:
        hits += [f"{name} in {where}" for name, needle in needles.items() if needle in data]
    return hits


@dataclass
class Desk:
    """The embedded exchange in this process, two data directories (HMAC, Ed25519), outputs."""

    base: pathlib.Path
    sim: SimServer
    canaries: Canaries
    outputs: dict[str, str] = field(default_factory=dict)

    def env(self, data: str, **extra: str) -> dict[str, str]:
        c = self.canaries
        keys = (
            {"SPOTDESK_API_KEY": c.hmac_key, "SPOTDESK_API_SECRET": c.hmac_secret}
            if data == "hmac"
            else {
                "SPOTDESK_API_KEY": c.ed_key,
                "SPOTDESK_PRIVATE_KEY_FILE": str(self.base / "ed25519.pem"),
            }
        )
        return cli_env(self.base / data, SPOTDESK_SIM_URL=self.sim.url, **keys, **extra)

    async def run(self, label: str, *args: str, data: str = "hmac", **extra: str) -> Ran:
        """`spotdesk ARGS` in its own process (what must be: starting an engine)."""
        ran = await run_cli(*args, env=self.env(data, **extra), cwd=self.base)
        return self._keep(label, ran)

    async def main(self, label: str, *args: str, data: str = "hmac", **extra: str) -> Ran:
        """`spotdesk ARGS` in this process (the same code, without a second of start-up each);
        one at a time, as it borrows the environment, working directory and standard streams."""
        ran = await asyncio.to_thread(_in_process, args, self.env(data, **extra), self.base)
        return self._keep(label, ran)

    def _keep(self, label: str, ran: Ran) -> Ran:
        self.outputs[f"{label} stdout"] = ran.out
        self.outputs[f"{label} stderr"] = ran.err
        return ran

    async def python(self, label: str, program: str, data: str = "hmac") -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            program,
            env=self.env(data),
            cwd=self.base,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        self.outputs[f"{label} stdout"] = out.decode()
        self.outputs[f"{label} stderr"] = err.decode()
        assert process.returncode is not None
        return process.returncode


def _in_process(args: Sequence[str], env: dict[str, str], cwd: pathlib.Path) -> Ran:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Ran(code, out.getvalue(), err.getvalue())


def _write_private(path: pathlib.Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


@pytest.fixture
async def desk() -> AsyncIterator[Desk]:
    base = pathlib.Path(tempfile.mkdtemp(prefix="sd-"))  # short: Unix socket paths are bounded
    canaries = Canaries.fresh()
    _write_private(base / "ed25519.pem", canaries.ed_pem)
    try:
        async with SimServer(port=0, frozen_market=True) as sim:
            await sim.admin.set_price("BTCUSDT", "50000")
            account = await sim.admin.create_account({"USDT": "10000", "BTC": "0.1"}, name="c")
            await sim.admin.register_key(
                account, api_key=canaries.hmac_key, secret=canaries.hmac_secret
            )
            await sim.admin.register_key(
                account, api_key=canaries.ed_key, ed25519_public_key_pem=canaries.ed_public_pem
            )
            yield Desk(base, sim, canaries)
    finally:
        for data in ("hmac", "ed25519"):  # an engine a failed test left running
            if _exists(base / data / "sim-default" / "engine.sock"):
                await run_cli("engine", "stop", env=cli_env(base / data), cwd=base)
        shutil.rmtree(base, ignore_errors=True)


CRASHING_COMMAND = textwrap.dedent(
    """
    import os, sys
    from engine import cli
    from engine.commands import status_cmd

    def crash(args):
        secret = os.environ["SPOTDESK_API_SECRET"]
        url = "http://127.0.0.1/api/v3/order?symbol=BTCUSDT&signature=" + secret
        raise RuntimeError("forced crash with " + secret + " at " + url)

    status_cmd._status = crash
    code = cli.main(["--debug", "status"])
    # Past main: only the crash hook stands between this and the terminal.
    raise ConnectionError("after main: " + os.environ["SPOTDESK_API_KEY"])
    """
)


async def _desk_flows(desk: Desk, shots: pathlib.Path) -> None:
    """An order from the ticket, the emergency modal, a screenshot of it. Fields are filled
    directly rather than typed key by key: what matters here is what the desk shows and sends."""
    socket = desk.base / "hmac" / "sim-default" / "engine.sock"
    app = DeskApp(lambda: SocketEngineClient(socket), clock=frozen_clock, timing=QUICK_FEED)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: not app.desk_state.stale, "the first snapshot")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket")
        ticket = app.screen
        ticket.query_one("#symbol", Input).value = "BTCUSDT"
        quantity = ticket.query_one("#quantity", Input)
        quantity.value = "0.001"
        app.set_focus(quantity)
        await pilot.press("enter")  # the engine's preview
        send = ticket.query_one("#send")
        await until(pilot, lambda: not send.disabled, "the engine's preview")
        app.set_focus(send)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, OrderTicket), "the ticket to close")
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, EmergencyScreen), "the modal")
        app.save_screenshot(filename="emergency.svg", path=str(shots))
        await pilot.press("escape")


async def test_no_secret_reaches_a_log_the_journal_a_screenshot_an_export_or_a_terminal(
    desk: Desk,
) -> None:
    shots = desk.base / "shots"
    exports = desk.base / "exports"
    shots.mkdir()
    exports.mkdir()
    started = await desk.run("engine start", "--debug", "engine", "start")
    assert started.code == 0, started.err
    crash = asyncio.create_task(desk.python("crash", CRASHING_COMMAND))  # meanwhile
    bought = await desk.main("order", "order", "buy", "BTCUSDT", "0.001", "--yes")
    assert bought.code == 0, bought.err
    refused = await desk.main("order too big", "order", "buy", "BTCUSDT", "1000", "--yes")
    rejected = await desk.main(
        "order rejected",
        *("order", "buy", "BTCUSDT", "0.001", "--type", "limit-maker", "--price", "60000"),
        "--yes",
    )
    await desk.sim.admin.add_fault("http_5xx", method="POST", path="/api/v3/order", count=1)
    hit = await desk.main("order 502", "order", "buy", "BTCUSDT", "0.001", "--yes")
    await desk.sim.admin.clear_faults()
    cancel = await desk.main("bad cancel", "cancel", "nosuchorder1")
    assert (refused.code, cancel.code) == (3, 2), (refused, cancel)
    assert 0 not in (rejected.code, hit.code), (rejected, hit)
    await _desk_flows(desk, shots)
    status = await desk.main("status", "status", "--json")
    assert status.code == 0 and '"trading_state"' in status.out
    secret = desk.canaries.hmac_secret
    bad = await desk.main(
        "bad settings", "status", SPOTDESK_SIM__PORT=secret, SPOTDESK_ACCOUNT=secret
    )
    bad_risk = await desk.main("bad risk", "engine", "start", SPOTDESK_RISK=f'{{"x": "{secret}"')
    assert (bad.code, bad_risk.code) == (2, 2)
    assert "SPOTDESK_SIM__PORT" in bad.err and "SPOTDESK_ACCOUNT" in bad.err
    for data in ("hmac", "ed25519"):
        shown = await desk.main(f"config {data}", "config", data=data)
        assert shown.code == 0, shown
    for kind in ("trades", "orders", "audit"):
        target = str(exports / f"{kind}.csv")
        assert (await desk.main(f"export {kind}", "export", kind, "--csv", target)).code == 0
    assert (await desk.main("engine stop", "engine", "stop")).code == 0
    assert await crash == 1
    assert "RuntimeError: forced crash with ***" in desk.outputs["crash stderr"]
    assert "ConnectionError: after main: ***" in desk.outputs["crash stderr"]
    # A second engine, signing with the Ed25519 key.
    ed_started = await desk.run("ed start", "--debug", "engine", "start", data="ed25519")
    assert ed_started.code == 0, ed_started.err
    ed_order = await desk.main(
        "ed order", "order", "buy", "BTCUSDT", "0.001", "--yes", data="ed25519"
    )
    assert ed_order.code == 0, ed_order.err
    assert (await desk.main("ed stop", "engine", "stop", data="ed25519")).code == 0

    roots = [desk.base / "hmac", desk.base / "ed25519", shots, exports]
    assert _size(shots / "emergency.svg") > 0
    assert "BTCUSDT" in _text(exports / "trades.csv")
    assert _size(desk.base / "hmac" / "sim-default" / "journal.sqlite") > 0
    assert _names(desk.base / "hmac" / "sim-default" / "logs") == ["cli.log", "engine.log"]
    assert search(desk.canaries.needles(), roots, desk.outputs) == []


def _exists(path: pathlib.Path) -> bool:
    return path.exists()


def _size(path: pathlib.Path) -> int:
    return path.stat().st_size


def _text(path: pathlib.Path) -> str:
    return path.read_text()


def _names(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_the_search_finds_what_is_planted(tmp_path: pathlib.Path) -> None:
    """The search above can fail: each form of each secret, planted, is found."""
    canaries = Canaries.fresh()
    needles = canaries.needles()
    for name, needle in needles.items():
        (tmp_path / f"{len(name)}-{abs(hash(name))}.bin").write_bytes(b"x" + needle + b"y")
    hits = search(needles, [tmp_path], {"stderr": f"oops {canaries.hmac_secret}"})
    assert {hit.split(" in ")[0] for hit in hits} == set(needles)
    assert "hmac secret in output stderr" in hits
