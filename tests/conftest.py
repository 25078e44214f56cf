"""Shared test fixtures: isolated pacsys global state, a real MIT KDC, real sshd daemons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Property and fuzz tests: a fast, derandomised profile by default (the same inputs every run);
# ``--fuzz`` switches to a long randomised one (>= 10,000 inputs per target) for nightly runs.
# Fuzz targets leave ``max_examples`` to the profile.
settings.register_profile(
    "default",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz", action="store_true", help="run property and fuzz tests with >= 10,000 inputs each"
    )
    parser.addoption(
        "--isolated-run",
        action="store_true",
        help="tests/integration/test_isolation.py runs each folder's tests (not only collects "
        "them) in a venv holding only its distribution (scripts/test-isolated)",
    )


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("fuzz" if config.getoption("--fuzz") else "default")


@pytest.fixture
def clean_pacsys() -> Iterator[None]:
    """Run a test with default settings and no global backend, restoring both afterwards."""
    from pacsys import _simple

    saved = _simple._settings
    _simple.shutdown()
    _simple._settings = _simple.Settings(environment={})
    try:
        yield
    finally:
        _simple.shutdown()
        _simple._settings = saved


# -- Kerberos: a real MIT KDC on loopback (pacsys.testing.kerberos) ------------------------

KERBEROS_USER = "testuser"
_KERBEROS_FIXTURES = {"kdc", "kerberos_user", "no_kerberos_ticket", "service_keytab"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a Kerberos or sshd fixture get the ``kerberos`` or ``sshd`` marker."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if _KERBEROS_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.kerberos)
        if "ssh_lab" in fixtures:
            item.add_marker(pytest.mark.sshd)


@pytest.fixture(scope="session")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running MiniKDC (realm FNAL.GOV); KRB5_CONFIG points at it for the whole session."""
    import os

    from pacsys.testing.kerberos import MiniKDC

    server = MiniKDC(tmp_path_factory.mktemp("kdc"))
    saved = {name: os.environ.get(name) for name in ("KRB5_CONFIG", "KRB5RCACHEDIR")}
    with server:
        os.environ.update(server.env())
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="session")
def _kerberos_user_password(kdc: Any) -> tuple[str, str]:
    """``testuser@FNAL.GOV`` created once, with a random password."""
    import secrets

    password = secrets.token_urlsafe(16)
    return kdc.add_principal(KERBEROS_USER, password), password


@pytest.fixture
def kerberos_user(
    kdc: Any,
    _kerberos_user_password: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A fresh ticket for ``testuser@FNAL.GOV`` in a fresh ccache (KRB5CCNAME set)."""
    principal, password = _kerberos_user_password
    ccache = kdc.kinit(principal, tmp_path_factory.mktemp("ccache") / "krb5cc", password=password)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    return principal


@pytest.fixture
def no_kerberos_ticket(
    kdc: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """KRB5CCNAME points at a ccache that does not exist; returns its path."""
    ccache = tmp_path_factory.mktemp("ccache") / "no-ticket"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    return ccache


@pytest.fixture(scope="session")
def _service_keytabs() -> dict[str, Path]:
    return {}


@pytest.fixture
def service_keytab(kdc: Any, _service_keytabs: dict[str, Path]) -> Any:
    """Factory: ``service_keytab("daeset/bd/dmq.fnal.gov") -> Path`` of a keytab for it.

    The principal is created (random key) and exported once per session.
    """

    def make(name: str) -> Path:
        principal = kdc.principal_name(name)
        path = _service_keytabs.get(principal)
        if path is None or not path.exists():
            kdc.add_principal(principal)
            path = kdc.keytab(principal)
            _service_keytabs[principal] = path
        return path

    return make


# -- SSH: real OpenSSH daemons on loopback (pacsys_ssh.testing) ----------------------------


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[Any]:
    """The ``jump`` and ``target`` sshd daemons, keys and a password user (an ``SSHLab``)."""
    from pacsys_ssh.testing import missing_requirement, ssh_lab

    problem = missing_requirement()
    if problem is not None:
        pytest.skip(problem)
    with ssh_lab() as lab:
        yield lab
