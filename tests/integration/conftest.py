"""Helpers for tests that build wheels and throw-away virtual environments (offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Uv = Callable[..., str]
WheelBuilder = Callable[[Path, Path], Path]


def _uv(*args: str | Path) -> str:
    """Run uv offline: everything comes from the local cache or from local wheels."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
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
