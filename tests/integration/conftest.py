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


def _core_venv(venv: Path, wheels: list[Path], package: str = "pacsys-core") -> Path:
    """A fresh venv holding ``package``'s locked dependencies plus ``wheels`` (no resolution).

    The dependencies come from ``uv.lock`` (already in uv's cache after ``uv sync``), so this
    works offline on a fresh machine; the wheels are installed without their dependencies.
    """
    _uv(
        "sync",
        "--frozen",
        "--package",
        package,
        "--no-dev",
        "--no-install-workspace",
        "--python",
        sys.executable,
        "--directory",
        ROOT,
        UV_PROJECT_ENVIRONMENT=str(venv),
    )
    _uv("pip", "install", "--no-deps", "--python", venv / "bin" / "python", *wheels)
    return venv


@pytest.fixture(scope="session")
def core_venv() -> VenvMaker:
    return _core_venv


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
