"""The permission gate: secrets and the data directory private to this user, or no start, with
the exact command that fixes it; LIVE refuses root; the data directory is created private."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

from engine.cli import main
from engine.config import Mode, Settings
from engine.journal.files import prepare_directory
from engine.preflight.checks import files_line
from engine.preflight.report import Check, Verdict
from engine.security import permissions
from engine.security.permissions import UnsafePermissions, find_problems, require_private_files
from engine.service.process import instance_paths, run_engine


def _settings(base: pathlib.Path, **changes: object) -> Settings:
    return Settings(_env_file=None, data_dir=base / "data", **changes)  # type: ignore[call-arg]


def _private_tree(base: pathlib.Path) -> Settings:
    settings = _settings(base)
    instance_paths(settings).prepare()
    return settings


def test_private_files_pass(workdir: pathlib.Path) -> None:
    settings = _private_tree(workdir)
    (workdir / ".env").write_text("SPOTDESK_MODE=sim\n")
    (workdir / ".env").chmod(0o600)
    assert find_problems(settings, cwd=workdir) == []
    assert files_line(settings, cwd=workdir).reason == (
        "private to this user: .env file, data directory, engine's directory"
    )


def test_a_readable_env_file_refuses_the_start_and_names_the_fix(workdir: pathlib.Path) -> None:
    settings = _private_tree(workdir)
    env = workdir / ".env"
    env.write_text("SPOTDESK_API_SECRET=x\n")
    env.chmod(0o644)
    with pytest.raises(UnsafePermissions) as raised:
        require_private_files(settings, cwd=workdir)
    assert str(raised.value) == (
        f"refusing to start: the .env file {env} is open to group or others (mode 644); "
        f"run: chmod 600 {env}"
    )


@pytest.mark.parametrize(
    ("what", "mode", "expected"),
    [
        (
            "data",
            0o755,
            "the data directory {path} is open to group or others (mode 755); "
            "run: chmod 700 {path}",
        ),
        (
            "instance",
            0o750,
            "the engine's directory {path} is open to group or others "
            "(mode 750); run: chmod 700 {path}",
        ),
        (
            "journal",
            0o640,
            "the journal {path} is open to group or others (mode 640); run: chmod 600 {path}",
        ),
        (
            "key",
            0o644,
            "the private key file {path} is open to group or others (mode 644); "
            "run: chmod 600 {path}",
        ),
        (
            "env_dir",
            0o775,
            "the directory of the .env file {path} is writable by group or "
            "others (mode 775); run: chmod go-w {path}",
        ),
    ],
)
def test_each_guarded_path_is_checked(
    workdir: pathlib.Path, what: str, mode: int, expected: str
) -> None:
    (workdir / "keys").mkdir(mode=0o700)
    key = workdir / "keys" / "key.pem"
    key.write_text("k")
    key.chmod(0o600)
    settings = _settings(workdir, private_key_file=key)
    paths = instance_paths(settings)
    paths.prepare()
    journal = paths.directory / "journal.sqlite"
    journal.write_text("")
    journal.chmod(0o600)
    env = workdir / ".env"
    env.write_text("")
    env.chmod(0o600)
    target = {
        "data": settings.data_dir,
        "instance": paths.directory,
        "journal": journal,
        "key": key,
        "env_dir": workdir,
    }[what]
    target.chmod(mode)
    problems = find_problems(settings, cwd=workdir)
    assert [p.describe() for p in problems] == [expected.format(path=target)]


def test_a_missing_key_file_and_a_foreign_owner_are_refused(workdir: pathlib.Path) -> None:
    settings = _private_tree(workdir).model_copy(
        update={"private_key_file": workdir / "absent.pem"}
    )
    problems = find_problems(settings, cwd=workdir, uid=4242)
    assert [p.describe() for p in problems] == [
        f"the private key file {workdir / 'absent.pem'} does not exist",
        f"the data directory {settings.data_dir} belongs to uid {settings.data_dir.stat().st_uid}"
        f", not to uid 4242; run: chown 4242 {settings.data_dir}",
        f"the engine's directory {instance_paths(settings).directory} belongs to uid "
        f"{settings.data_dir.stat().st_uid}, not to uid 4242; run: chown 4242 "
        f"{instance_paths(settings).directory}",
    ]


def test_live_refuses_root_and_the_other_modes_warn(
    workdir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(permissions, "running_as_root", lambda: True)
    sim = _private_tree(workdir)
    live = sim.model_copy(update={"mode": Mode.LIVE})
    assert find_problems(sim, cwd=workdir) == []
    assert [p.describe() for p in find_problems(live, cwd=workdir)] == [
        "spotdesk runs as root, which LIVE refuses: run it as its own unprivileged user"
    ]
    line = files_line(sim, cwd=workdir)
    assert (line.check, line.verdict, line.reason) == (
        Check.FILES,
        Verdict.WARN,
        "private (data directory, engine's directory), but spotdesk runs as root: LIVE "
        "refuses that",
    )


def test_the_data_directory_is_created_private_root_included(workdir: pathlib.Path) -> None:
    data = workdir / "deep" / "data"
    prepare_directory(data / "sim-default")
    modes = [oct(p.stat().st_mode & 0o777) for p in (workdir / "deep", data, data / "sim-default")]
    assert modes == ["0o700", "0o700", "0o700"]


async def test_the_engine_refuses_to_start_with_a_readable_env_file(
    workdir: pathlib.Path,
) -> None:
    settings = _private_tree(workdir).model_copy(update={"sim_url": "http://127.0.0.1:9"})
    (workdir / ".env").write_text("")
    (workdir / ".env").chmod(0o644)
    started: list[str] = []

    async def starter(_settings: Settings, account: str) -> object:
        started.append(account)
        raise AssertionError("must not start")

    with pytest.raises(UnsafePermissions):
        await asyncio.wait_for(run_engine(settings, starter=starter), 10)  # type: ignore[arg-type]
    assert started == []
    assert not instance_paths(settings).socket.exists()


def test_engine_start_says_the_fix_and_exits_refused(
    workdir: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPOTDESK_DATA_DIR", str(workdir / "data"))
    (workdir / "data").mkdir(mode=0o755)
    (workdir / "data").chmod(0o755)
    assert main(["engine", "start"]) == 3
    out, err = capsys.readouterr()
    data = workdir / "data"
    assert (out, err) == (
        "",
        f"spotdesk: refusing to start: the data directory {data} is open to group or others "
        f"(mode 755); run: chmod 700 {data}\n",
    )
