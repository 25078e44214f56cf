"""pacsys-core alone: installs into a fresh venv, imports nothing of any transport."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["grpc", "google.protobuf", "pika", "paramiko", "gssapi", "httpx"]
CHECK = textwrap.dedent(
    f"""
    import sys
    import pacsys
    import pacsys.registry
    print([m for m in {HEAVY!r} if m in sys.modules])
    print(pacsys.registry._registry is None)
    """
)


def test_import_pacsys_in_workspace_loads_no_transport_dependency() -> None:
    """Even with every transport installed, ``import pacsys`` touches none of them."""
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_pacsys_core_alone_installs_and_imports(tmp_path: Path, uv, build_wheel, core_venv) -> None:
    wheel = build_wheel(ROOT / "pacsys-core", tmp_path / "wheels")
    venv = tmp_path / "venv"
    core_venv(venv, [wheel])
    installed = uv("pip", "freeze", "--python", venv / "bin" / "python").splitlines()
    names = sorted(re.split(r"[=@ ]", line, maxsplit=1)[0].lower() for line in installed)
    assert names == ["attrs", "numpy", "pacsys-core", "pluggy"]
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CHECK], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
