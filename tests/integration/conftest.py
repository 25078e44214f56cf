"""Fixtures for tests across distributions: wheels and throw-away venvs (offline), SSH clients."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

Uv = Callable[..., str]
WheelBuilder = Callable[[Path, Path], Path]
VenvMaker = Callable[..., Path]

ROOT = Path(__file__).resolve().parents[2]


def _uv(*args: str | Path, **extra_env: str) -> str:
    """Run uv offline: everything comes from the local cache or from local wheels."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1", **extra_env}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-m", "uv", *map(str, args)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise AssertionError(f"uv {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done.stdout


def _build_wheel(project: Path, out: Path) -> Path:
    _uv("build", "--wheel", "--no-build-isolation", "--python", sys.executable, "-o", out, project)
    (wheel,) = out.glob(f"{project.name.replace('-', '_')}-*.whl")
    return wheel


@pytest.fixture(scope="session")
def uv() -> Uv:
    return _uv


@pytest.fixture(scope="session")
def build_wheel() -> WheelBuilder:
    return _build_wheel


def _core_venv(
    venv: Path,
    wheels: list[Path],
    package: str = "pacsys-core",
    extras: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
) -> Path:
    """A fresh venv holding ``package``'s locked dependencies plus ``wheels`` (no resolution).

    The dependencies (with ``extras``) come from ``uv.lock`` (already in uv's cache after
    ``uv sync``), so this works offline on a fresh machine; so do the workspace's dependency
    ``groups`` (e.g. ``test``). The wheels are installed without their dependencies.
    """
    sync = ("sync", "--frozen", "--no-install-workspace", "--python", sys.executable)
    env = {"UV_PROJECT_ENVIRONMENT": str(venv)}
    extra_args = [f"--extra={extra}" for extra in extras]
    _uv(*sync, "--package", package, *extra_args, "--no-dev", "--directory", ROOT, **env)
    if groups:
        only = [f"--only-group={group}" for group in groups]
        _uv(*sync, "--inexact", *only, "--directory", ROOT, **env)
    _uv("pip", "install", "--no-deps", "--python", venv / "bin" / "python", *wheels)
    return venv


@pytest.fixture(scope="session")
def core_venv() -> VenvMaker:
    return _core_venv


# -- scripts/test-isolated: tests/<folder> run in a venv holding only its distribution ----------

IsolatedResults = dict[str, tuple[int, int, float]]  # folder -> (passed, failed, seconds)
_ISOLATED_RESULTS = pytest.StashKey[IsolatedResults]()


@pytest.fixture(scope="session")
def isolated_results(request: pytest.FixtureRequest) -> IsolatedResults:
    """Where test_isolation.py records each folder's full run (printed as a table at the end)."""
    return request.config.stash.setdefault(_ISOLATED_RESULTS, {})


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash.get(_ISOLATED_RESULTS, {})
    if not results:
        return
    terminalreporter.section("each folder with only its distribution installed")
    terminalreporter.write_line(f"{'folder':<8} {'passed':>7} {'failed':>7} {'seconds':>8}")
    for folder, (passed, failed, seconds) in results.items():
        terminalreporter.write_line(f"{folder:<8} {passed:>7} {failed:>7} {seconds:>8.1f}")


@pytest.fixture(scope="session")
def _acl_on_ssh_lab(ssh_lab: Any) -> Any:
    """``ssh_lab`` whose sessions have ``acl``: pacsys-acl's interpreter over the simulator."""
    program = Path(__file__).resolve().parent / "acl_program.py"
    acl = ssh_lab.bin_dir / "acl"
    acl.write_text(f'#!/bin/sh\nexec {sys.executable} {program} "$@"\n')
    acl.chmod(0o755)
    return ssh_lab


@pytest.fixture
def ssh_client(_acl_on_ssh_lab: Any) -> Iterator[Any]:
    """An SSHClient to the lab's target sshd (key auth as the login user), closed afterwards."""
    from pacsys_ssh.client import SSHClient
    from pacsys_ssh.hops import SSHHop

    lab = _acl_on_ssh_lab
    hop = SSHHop(
        "127.0.0.1", lab.daemons["target"].port, lab.login, "key", key_filename=str(lab.user_key)
    )
    with SSHClient(hop, connect_timeout=5.0) as ssh:
        yield ssh
