"""The failpoint registry itself: parsing, counting hits, dying by SIGKILL at the armed one, the
wire hook only when armed on the wire, and an engine that refuses a misspelt point."""

from __future__ import annotations

import asyncio
import pathlib
import signal
import sys
import timeit

import pytest
from cli_testkit import cli_env, run_cli

from engine.core import failpoints
from engine.core.failpoints import ENV_VAR, HTTP_POINTS, NAMES, Armed, Failpoints


def test_a_spec_names_a_point_and_optionally_its_hit() -> None:
    assert Armed.parse("mid_reconcile") == Armed("mid_reconcile", 1)
    assert Armed.parse(" during_cancel@3 ") == Armed("during_cancel", 3)
    for bad, why in [
        ("mid_reconcil", "unknown failpoint 'mid_reconcil'"),
        ("mid_reconcile@0", "whole number >= 1"),
        ("mid_reconcile@x", "whole number >= 1"),
        ("mid_reconcile@-1", "whole number >= 1"),
    ]:
        with pytest.raises(ValueError, match=why):
            Armed.parse(bad)
    assert set(HTTP_POINTS) <= NAMES
    assert len(NAMES) == 10


def test_the_environment_arms_and_an_empty_one_disarms() -> None:
    try:
        assert failpoints.arm_from_environment({ENV_VAR: "after_intent_commit@2"}) == Armed(
            "after_intent_commit", 2
        )
        assert failpoints.armed() == Armed("after_intent_commit", 2)
        failpoints.hit("after_intent_commit")  # the first hit of two: nothing happens
        failpoints.hit("during_cancel")  # another point: not even counted
        assert failpoints.arm_from_environment({}) is None
        assert failpoints.armed() is None
    finally:
        failpoints.disarm()


def test_without_a_wire_point_the_session_gets_no_hook() -> None:
    assert Failpoints().session_params(None) is None
    assert Failpoints(Armed("mid_reconcile")).session_params({"a": 1}) == {"a": 1}
    armed = Failpoints(Armed("cancel_after_http_write")).session_params(None)
    assert armed is not None and len(armed["trace_configs"]) == 1


def test_a_disarmed_hit_costs_next_to_nothing() -> None:
    failpoints.disarm()
    seconds = min(timeit.repeat(lambda: failpoints.hit("after_intent_commit"), number=10_000))
    assert seconds / 10_000 < 2e-6  # a few hundred nanoseconds in practice


async def test_the_armed_hit_kills_the_process_with_sigkill() -> None:
    script = (
        "from engine.core import failpoints\n"
        "failpoints.arm(failpoints.Armed('mid_reconcile', 2))\n"
        "failpoints.hit('mid_reconcile')\n"
        "print('alive after the first hit', flush=True)\n"
        "failpoints.hit('mid_reconcile')\n"
        "print('never printed', flush=True)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert out == b"alive after the first hit\n"
    assert err == b"failpoint mid_reconcile@2 hit: SIGKILL\n"


async def test_an_engine_armed_at_an_unknown_point_refuses_to_start(
    base: pathlib.Path,
) -> None:
    env = cli_env(base / "data", SPOTDESK_SIM_URL="http://127.0.0.1:9", **{ENV_VAR: "nowhere"})
    ran = await run_cli("engine", "run", env=env, cwd=base)
    assert ran.code == 4, ran
    assert ran.err.startswith(
        "spotdesk: the engine could not start: SPOTDESK_FAILPOINT: unknown failpoint 'nowhere'"
    ), ran.err
    assert ran.out == ""
