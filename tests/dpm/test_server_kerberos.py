"""DPMServer settings with a real MIT KDC: GSS Authenticate, EnableSettings MIC, role checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pacsys.acnet import DPM_PRIV
from pacsys.testing import FakeBackend
from pacsys_dpm.codec import (
    ApplySettingsReply,
    ApplySettingsRequest,
    AuthenticateReply,
    AuthenticateRequest,
    EnableSettingsRequest,
    ScaledSetting,
    StatusReply,
    StopListRequest,
    TextSetting,
)
from pacsys_dpm.server import DPMServer

from .raw_client import RawClient
from .raw_client import authenticate as _authenticate
from .raw_client import write_setup as _write_setup

pytest.importorskip("gssapi")

SERVICE = "daeset/bd@localhost"
ROLES = {"ops": ["z:acltst", "G_TEXT"], "admin": ["*"], "viewer": []}


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    backend = FakeBackend()
    backend.set_reading("Z:ACLTST", 1.0, units="mm")
    yield backend
    backend.close()


@pytest.fixture
def kerberos_server(
    fake: FakeBackend, service_keytab: Callable[[str], Path]
) -> Iterator[DPMServer]:
    keytab = service_keytab("daeset/bd/localhost")
    with DPMServer(fake, port=0, keytab=keytab, service_name=SERVICE, roles=ROLES) as srv:
        yield srv
    assert not [t for t in threading.enumerate() if t.name.startswith("pacsys-dpm")]


def _write(c: RawClient, role: str | None, drfs: list[str], values: list[Any]) -> list[int]:
    _write_setup(c, *drfs, role=role)
    scaled = [ScaledSetting(i + 1, [v]) for i, v in enumerate(values) if not isinstance(v, str)]
    text = [TextSetting(i + 1, [v]) for i, v in enumerate(values) if isinstance(v, str)]
    c.send(
        ApplySettingsRequest(
            "testuser@FNAL.GOV", c.list_id, scaled_array=scaled or None, text_array=text or None
        )
    )
    reply = c.recv()
    assert isinstance(reply, ApplySettingsReply)
    c.send(StopListRequest(c.list_id))
    return [s.status for s in sorted(reply.status, key=lambda s: s.ref_id)]


def test_authenticated_write_within_role(
    kerberos_server: DPMServer, kerberos_user: str, fake: FakeBackend
) -> None:
    c = RawClient(kerberos_server.port).open()
    try:
        _authenticate(c)
        assert _write(c, "ops", ["Z:ACLTST.SETTING@N", "G:TEXT.SETTING@N"], [5.0, "hi"]) == [0, 0]
        assert fake.writes == [("Z:ACLTST.SETTING", 5.0), ("G:TEXT.SETTING", "hi")]
        # the connection stays authenticated for the next write cycle
        assert _write(c, "admin", ["M:OUTTMP.SETTING@N"], [3.0]) == [0]
        assert fake.writes[-1] == ("M:OUTTMP.SETTING", 3.0)
    finally:
        c.close()


@pytest.mark.parametrize(
    ("role", "drf"),
    [
        ("ops", "M:OUTTMP.SETTING@N"),  # device outside the role's list
        ("viewer", "Z:ACLTST.SETTING@N"),  # role with no devices
        ("nobody", "Z:ACLTST.SETTING@N"),  # unknown role
        (None, "Z:ACLTST.SETTING@N"),  # no role declared
    ],
    ids=["outside-list", "empty-role", "unknown-role", "no-role"],
)
def test_role_refusals_get_dpm_priv(
    kerberos_server: DPMServer,
    kerberos_user: str,
    fake: FakeBackend,
    role: str | None,
    drf: str,
) -> None:
    c = RawClient(kerberos_server.port).open()
    try:
        _authenticate(c)
        assert _write(c, role, [drf], [9.0]) == [DPM_PRIV]
        assert fake.writes == []
    finally:
        c.close()


def test_mixed_batch_refuses_only_disallowed(
    kerberos_server: DPMServer, kerberos_user: str, fake: FakeBackend
) -> None:
    c = RawClient(kerberos_server.port).open()
    try:
        _authenticate(c)
        got = _write(c, "ops", ["Z:ACLTST.SETTING@N", "M:OUTTMP.SETTING@N"], [2.0, 4.0])
        assert got == [0, DPM_PRIV]
        assert fake.writes == [("Z:ACLTST.SETTING", 2.0)]
    finally:
        c.close()


def test_bad_mic_and_bad_token_are_refused(
    kerberos_server: DPMServer, kerberos_user: str, fake: FakeBackend
) -> None:
    from pacsys.auth import KerberosAuth
    from pacsys.gss import ClientContext

    c = RawClient(kerberos_server.port).open()
    try:
        c.send(AuthenticateRequest(c.list_id, b"\x60\x03not-a-token"))
        refused = c.recv()
        assert isinstance(refused, StatusReply) and refused.status == DPM_PRIV
        context = ClientContext("daeset/bd/localhost@FNAL.GOV", KerberosAuth())
        c.send(AuthenticateRequest(c.list_id, context.step()))
        assert c.recv() == AuthenticateReply(SERVICE)
        mic = context.get_mic(b"1234")
        c.send(EnableSettingsRequest(c.list_id, mic, b"4321"))  # MIC over other bytes
        assert c.recv() == StatusReply(0, 0, -1, DPM_PRIV)
        assert _write(c, "admin", ["Z:ACLTST.SETTING@N"], [1.0]) == [DPM_PRIV]
        assert fake.writes == []
    finally:
        c.close()


def test_authenticated_but_no_enable_settings_is_refused(
    kerberos_server: DPMServer, kerberos_user: str, fake: FakeBackend
) -> None:
    from pacsys.auth import KerberosAuth
    from pacsys.gss import ClientContext

    c = RawClient(kerberos_server.port).open()
    try:
        context = ClientContext("daeset/bd/localhost@FNAL.GOV", KerberosAuth())
        c.send(AuthenticateRequest(c.list_id, context.step()))
        assert c.recv() == AuthenticateReply(SERVICE)
        assert _write(c, "admin", ["Z:ACLTST.SETTING@N"], [1.0]) == [DPM_PRIV]
        assert fake.writes == []
    finally:
        c.close()
