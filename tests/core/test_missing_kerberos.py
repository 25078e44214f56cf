"""Kerberos without gssapi: MissingPackageError naming the extra to install.

Each case runs in a subprocess whose ``sitecustomize`` blocks ``import gssapi``, which is
what a venv holding only pacsys-core and pacsys-dpm looks like.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from pacsys.testing.blocked import blocked_imports, run_python


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
    return blocked_imports(tmp_path, ["gssapi"], drop=["KRB5CCNAME"])


def test_the_block_really_hides_gssapi(no_gssapi: dict[str, str]) -> None:
    done = run_python("-c", "import gssapi", env=no_gssapi)
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
    done = run_python("-c", code, env=no_gssapi)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(_expected_install())


def test_blocked_imports_needs_module_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="module names"):
        blocked_imports(tmp_path, [])
