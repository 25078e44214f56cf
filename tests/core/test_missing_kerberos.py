"""Kerberos without gssapi: MissingPackageError naming the extra to install.

Each case runs in a subprocess whose ``sitecustomize`` blocks ``import gssapi``, which is
what a venv holding only pacsys-core and pacsys-dpm looks like.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _expected_install() -> str:
    """The extra named: pacsys-dpm's when it is installed (DPM writes), else pacsys-core's."""
    try:
        importlib.metadata.version("pacsys-dpm")
    except importlib.metadata.PackageNotFoundError:
        return "pip install 'pacsys-core[kerberos]'"
    return "pip install 'pacsys-dpm[kerberos]'"


@pytest.fixture
def no_gssapi(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import gssapi`` fails as if the package were absent."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['gssapi'] = None\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env.pop("KRB5CCNAME", None)
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_block_really_hides_gssapi(no_gssapi: dict[str, str]) -> None:
    done = _python("import gssapi", no_gssapi)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_kerberos_auth_names_the_extra(no_gssapi: dict[str, str]) -> None:
    code = (
        "import pacsys\n"
        "from pacsys.errors import MissingPackageError, PacsysError\n"
        "try:\n"
        "    pacsys.KerberosAuth()\n"
        "except MissingPackageError as exc:\n"
        "    assert isinstance(exc, PacsysError) and isinstance(exc, ImportError)\n"
        "    assert exc.package == 'gssapi' and exc.__cause__ is None\n"
        "    print(exc)\n"
    )
    done = _python(code, no_gssapi)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(_expected_install())
