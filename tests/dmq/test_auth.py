"""Kerberos on DMQ: required for everything, verified by a strict server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pacsys.auth import JWTAuth, KerberosAuth
from pacsys.errors import AuthenticationError, DeviceError, ReadError
from pacsys_dmq.client import DMQBackend

pytestmark = pytest.mark.rabbitmq


def test_auth_is_required() -> None:
    with pytest.raises(AuthenticationError, match="KerberosAuth"):
        DMQBackend("127.0.0.1")
    with pytest.raises(AuthenticationError, match="KerberosAuth"):
        DMQBackend("127.0.0.1", auth=JWTAuth(token="a.b.c"))


def test_no_ticket_is_authentication_error(no_kerberos_ticket: Any) -> None:
    with pytest.raises(AuthenticationError):
        DMQBackend("127.0.0.1", auth=KerberosAuth())


def test_constructor_validation(kerberos_user: str) -> None:
    auth = KerberosAuth()
    with pytest.raises(ValueError, match="host must be a non-empty string, got ''"):
        DMQBackend("", auth=auth)
    with pytest.raises(ValueError, match="port must be an integer from 1 to 65535, got 0"):
        DMQBackend("h", 0, auth=auth)
    with pytest.raises(ValueError, match="timeout must be a positive finite number"):
        DMQBackend("h", timeout=float("inf"), auth=auth)


def test_principal_and_defaults(kerberos_user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACSYS_DMQ_HOST", "broker.example")
    monkeypatch.setenv("PACSYS_DMQ_PORT", "5673")
    backend = DMQBackend(auth=KerberosAuth())
    assert (backend.host, backend.port, backend.timeout) == ("broker.example", 5673, 10.0)
    assert backend.principal == kerberos_user and backend.authenticated
    assert "5673" in repr(backend)
    backend.close()


def test_ticket_lost_after_construction(
    dmq_backend: Any, kerberos_user: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    assert dmq_backend.read("M:OUTTMP") == 72.5
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'gone'}")
    object.__setattr__(dmq_backend._auth, "_credentials", None)  # forget it: must re-acquire
    with pytest.raises(ReadError) as info:
        dmq_backend.read("M:OUTTMP")
    assert isinstance(info.value.__cause__, AuthenticationError)
    with pytest.raises(AuthenticationError):
        dmq_backend.write("Z:ACLTST", 1.0)


@pytest.fixture
def corrupt_mics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sign one byte more than is sent: a real MIC over the wrong data."""
    from pacsys_dmq.protocol import signing

    real_init, real_setting = signing.init_signing_body, signing.setting_signing_body
    monkeypatch.setattr(signing, "init_signing_body", lambda *a, **k: real_init(*a, **k) + b"x")
    monkeypatch.setattr(
        signing, "setting_signing_body", lambda *a, **k: real_setting(*a, **k) + b"x"
    )
    yield


def test_bad_init_mic_rejected(dmq_backend: Any, corrupt_mics: None) -> None:
    with pytest.raises(ReadError) as info:
        dmq_backend.read("M:OUTTMP")
    assert "error=-99" in info.value.message
    cause = info.value.__cause__
    assert isinstance(cause, DeviceError) and (cause.facility_code, cause.error_code) == (72, -99)
    result = dmq_backend.write("Z:ACLTST", 1.0)
    assert (result.facility_code, result.error_code) == (72, -99)


def test_bad_setting_mic_rejected(
    dmq_backend: Any, fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pacsys_dmq.protocol import signing

    real = signing.setting_signing_body
    monkeypatch.setattr(signing, "setting_signing_body", lambda *a, **k: real(*a, **k) + b"x")
    before = len(fake.writes)
    result = dmq_backend.write("Z:ACLTST", 9.0)
    assert (result.facility_code, result.error_code) == (72, -99)
    assert len(fake.writes) == before


def test_token_for_another_service_rejected(
    dmq_server: Any,
    module_vhost: str,
    kerberos_user: str,
    service_keytab: Any,
    make_backend: Callable[..., Any],
) -> None:
    service_keytab("daeset/bd/other.fnal.gov")
    with make_backend(module_vhost, service="daeset/bd/other.fnal.gov@FNAL.GOV") as backend:
        with pytest.raises(ReadError) as info:
            backend.read("M:OUTTMP")
    assert isinstance(info.value.__cause__, DeviceError)
    assert info.value.__cause__.error_code == -99
