"""Kerberos-authenticated DPM writes against DPMServer + FakeBackend and a real MIT KDC."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pacsys.auth import KerberosAuth
from pacsys.errors import AuthenticationError
from pacsys.testing import FakeBackend
from pacsys.types import BackendCapability
from pacsys_dpm.client import DPMHTTPBackend
from pacsys_dpm.server import DPMServer

SERVICE = "daeset/bd/localhost"
ROLES = {"testing": ["Z:ACLTST", "Z:ALARMED"], "everything": ["*"]}


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("Z:ACLTST.SETTING", 0.0)
    yield backend
    backend.close()


@pytest.fixture
def server(fake: FakeBackend, service_keytab: Callable[[str], Path]) -> Iterator[DPMServer]:
    keytab = service_keytab(SERVICE)
    with DPMServer(fake, port=0, keytab=keytab, roles=ROLES) as srv:
        yield srv


def _backend(server: DPMServer, **kwargs: Any) -> DPMHTTPBackend:
    kwargs.setdefault("timeout", 5.0)
    return DPMHTTPBackend("127.0.0.1", server.port, **kwargs)


def test_authenticated_write_succeeds_and_reuses_the_connection(
    server: DPMServer, fake: FakeBackend, kerberos_user: str
) -> None:
    with _backend(server, auth=KerberosAuth(), role="testing") as backend:
        assert backend.authenticated and backend.principal == kerberos_user
        assert backend.capabilities & BackendCapability.WRITE
        result = backend.write("Z:ACLTST", 45.0)
        assert result.ok and result.drf == "Z:ACLTST", result
        assert fake.get_written_value("Z:ACLTST.SETTING") == 45.0
        connections = server.connection_count
        results = backend.write_many([("Z:ACLTST", 46.0), ("Z:ACLTST.SETTING", 47.0)])
        assert [r.ok for r in results] == [True, True]
        assert server.connection_count == connections  # the authenticated list was reused
    assert fake.get_written_value("Z:ACLTST.SETTING") == 47.0


def test_alarm_dict_is_written_field_by_field(
    server: DPMServer, fake: FakeBackend, kerberos_user: str
) -> None:
    with _backend(server, auth=KerberosAuth(), role="testing") as backend:
        result = backend.write("Z:ALARMED.ANALOG", {"minimum": 1.0, "alarm_enable": True})
    assert result.ok, result
    written = dict(fake.writes)
    assert written == {"Z:ALARMED.ANALOG.MIN": 1.0, "Z:ALARMED.ANALOG.ALARM_ENABLE": 1.0}


def test_wrong_role_gives_failed_write_result(
    server: DPMServer, fake: FakeBackend, kerberos_user: str
) -> None:
    with _backend(server, auth=KerberosAuth(), role="nobody") as backend:
        result = backend.write("Z:ACLTST", 1.0)
    assert not result.ok
    assert (result.facility_code, result.error_code) == (17, -17)
    assert result.message is not None and "DPM_PRIV" in result.message
    assert not fake.was_written("Z:ACLTST.SETTING")


def test_device_outside_role_is_refused_per_setting(
    server: DPMServer, fake: FakeBackend, kerberos_user: str
) -> None:
    with _backend(server, auth=KerberosAuth(), role="testing") as backend:
        allowed, refused = backend.write_many([("Z:ACLTST", 2.0), ("M:OUTTMP", 3.0)])
    assert allowed.ok and not refused.ok
    assert refused.error_code == -17
    assert fake.was_written("Z:ACLTST.SETTING") and not fake.was_written("M:OUTTMP.SETTING")


def test_no_ticket_is_authentication_error(server: DPMServer, no_kerberos_ticket: Path) -> None:
    with pytest.raises(AuthenticationError):
        KerberosAuth()
    with _backend(server, role="testing") as backend:  # lazy Kerberos (global-backend style)
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match=r"kinit|ticket"):
            backend.write("Z:ACLTST", 1.0)
        assert time.monotonic() - started < 5


def test_lazy_kerberos_acquires_at_first_write(
    server: DPMServer, fake: FakeBackend, kerberos_user: str
) -> None:
    with _backend(server, role="everything") as backend:
        assert backend.principal is None
        assert backend.write("Z:ACLTST", 9.0).ok
        assert backend.principal == kerberos_user
    assert fake.get_written_value("Z:ACLTST.SETTING") == 9.0


def test_expired_ticket_is_authentication_error(
    server: DPMServer,
    kdc: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = secrets.token_urlsafe(12)
    principal = kdc.add_principal(f"shortlived{secrets.randbelow(10**6)}", password)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'cc'}")
    for lifetime in (2, 4, 8, 16):  # a loaded machine may let a short ticket expire at once
        ccache = kdc.kinit(principal, tmp_path / "cc", password=password, lifetime=f"{lifetime}s")
        try:
            auth = KerberosAuth()
            break
        except AuthenticationError:
            continue
    else:
        pytest.fail("no ticket outlived its own kinit")
    with _backend(server, auth=auth, role="everything") as backend:
        kdc.wait_until_expired(ccache, timeout=15)
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match=r"expired|ticket"):
            backend.write("Z:ACLTST", 1.0)
        assert time.monotonic() - started < 5


def test_server_without_keytab_refuses_authentication(
    fake: FakeBackend, kerberos_user: str
) -> None:
    with DPMServer(fake, port=0) as srv, _backend(srv, auth=KerberosAuth()) as backend:
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match=r"DPM rejected|DPM_PRIV"):
            backend.write("Z:ACLTST", 1.0)
        assert time.monotonic() - started < 5
