"""MiniKDC fixtures and pacsys.gss against a real MIT KDC on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pacsys.auth import KerberosAuth
from pacsys.errors import AuthenticationError
from pacsys.gss import ClientContext, ServerContext, krb5_principal
from pacsys.testing.kerberos import MiniKDC, ticket_is_valid

pytestmark = pytest.mark.kerberos

SERVICE = "daeset/bd/dmq.fnal.gov"
TARGET = f"{SERVICE}@FNAL.GOV"


def _handshake(keytab: Path, *, mutual: bool = False) -> tuple[ClientContext, ServerContext]:
    client = ClientContext(TARGET, KerberosAuth(), mutual=mutual)
    server = ServerContext(keytab, TARGET)
    reply = server.step(client.step())
    if mutual:
        assert reply, "mutual authentication must produce an AP-REP"
        assert client.step(reply) == b""
    else:
        assert reply == b""
    return client, server


def _flip(data: bytes, index: int = -1) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# -- MiniKDC and the fixtures -----------------------------------------------------------------


def test_kinit_puts_a_ticket_for_the_user_in_the_ccache(kdc: MiniKDC, kerberos_user: str) -> None:
    assert kerberos_user == "testuser@FNAL.GOV"
    assert kdc.realm == "FNAL.GOV"
    assert f"kdc = 127.0.0.1:{kdc.port}" in kdc.krb5_conf.read_text()
    assert os.environ["KRB5_CONFIG"] == str(kdc.krb5_conf)
    listing = subprocess.run(
        ["klist"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "Default principal: testuser@FNAL.GOV" in listing
    assert "krbtgt/FNAL.GOV@FNAL.GOV" in listing
    assert ticket_is_valid(os.environ["KRB5CCNAME"])


def test_kinit_with_a_wrong_password_or_unknown_principal_fails(
    kdc: MiniKDC, tmp_path: Path
) -> None:
    kdc.add_principal("pwuser", "right-password")
    with pytest.raises(RuntimeError, match=r"kinit pwuser@FNAL\.GOV failed"):
        kdc.kinit("pwuser", tmp_path / "cc", password="wrong-password")
    with pytest.raises(RuntimeError, match=r"kinit nobody@FNAL\.GOV failed"):
        kdc.kinit("nobody", tmp_path / "cc", password="x")
    with pytest.raises(ValueError, match="exactly one"):
        kdc.kinit("pwuser", tmp_path / "cc")


def test_kinit_from_a_keytab(kdc: MiniKDC, tmp_path: Path) -> None:
    principal = kdc.add_principal("robot")
    keytab = kdc.keytab(principal, tmp_path / "robot.keytab")
    ccache = kdc.kinit(principal, tmp_path / "cc", keytab=keytab)
    assert ticket_is_valid(ccache, {**os.environ, **kdc.env()})
    assert kdc.env(ccache)["KRB5CCNAME"] == f"FILE:{ccache}"


def test_service_keytab_factory_is_stable(service_keytab) -> None:
    first = service_keytab(SERVICE)
    assert first.is_file() and first.stat().st_size > 0
    assert service_keytab(SERVICE) == first


# -- KerberosAuth against real tickets --------------------------------------------------------


def test_kerberos_auth_picks_up_the_ticket(kerberos_user: str) -> None:
    auth = KerberosAuth()
    assert auth.principal == kerberos_user
    assert auth.credentials.lifetime > 0
    assert KerberosAuth(name=kerberos_user).principal == kerberos_user


def test_no_ticket_is_an_authentication_error(no_kerberos_ticket: Path) -> None:
    assert not no_kerberos_ticket.exists()
    with pytest.raises(AuthenticationError, match="No valid Kerberos ticket"):
        KerberosAuth()


def test_expired_ticket_is_an_authentication_error(
    kdc: MiniKDC,
    kerberos_user: str,
    service_keytab,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keytab = service_keytab(SERVICE)
    principal = kdc.add_principal("shortlived", "short-password")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'cc'}")
    for lifetime in (1, 2, 4, 8, 16):  # a loaded machine may let a short ticket expire at once
        ccache = kdc.kinit(
            principal, tmp_path / "cc", password="short-password", lifetime=f"{lifetime}s"
        )
        try:
            auth = KerberosAuth()  # still valid now
            break
        except AuthenticationError:
            continue
    else:
        pytest.fail("no ticket outlived its own kinit")
    assert auth.principal == principal
    kdc.wait_until_expired(ccache, timeout=10)
    with pytest.raises(AuthenticationError, match=r"expired|No valid Kerberos ticket"):
        KerberosAuth()
    with pytest.raises(AuthenticationError):
        ClientContext(TARGET, auth).step()
    assert keytab.is_file()


# -- GSS contexts -----------------------------------------------------------------------------


def test_one_step_handshake_identifies_the_initiator(kerberos_user: str, service_keytab) -> None:
    client, server = _handshake(service_keytab(SERVICE))
    assert client.complete and server.complete
    assert server.initiator == kerberos_user == "testuser@FNAL.GOV"


def test_mutual_handshake_takes_a_reply_token(kerberos_user: str, service_keytab) -> None:
    client, server = _handshake(service_keytab(SERVICE), mutual=True)
    assert client.complete and server.initiator == kerberos_user


def test_mic_round_trip_both_ways(kerberos_user: str, service_keytab) -> None:
    client, server = _handshake(service_keytab(SERVICE))
    for message in (b"1234", b"", b"\x00" * 300):
        server.verify_mic(message, client.get_mic(message))
    server_mic = server.get_mic(b"reply")
    client.verify_mic(b"reply", server_mic)


def test_tampered_mic_or_message_is_rejected(kerberos_user: str, service_keytab) -> None:
    client, server = _handshake(service_keytab(SERVICE))
    mic = client.get_mic(b"1234")
    with pytest.raises(AuthenticationError, match="MIC verification failed"):
        server.verify_mic(b"1234", _flip(mic))
    with pytest.raises(AuthenticationError, match="MIC verification failed"):
        server.verify_mic(b"1235", mic)
    with pytest.raises(AuthenticationError, match="MIC verification failed"):
        server.verify_mic(b"1234", mic[:-4])
    server.verify_mic(b"1234", mic)  # the genuine MIC still verifies after the failures
    with pytest.raises(AuthenticationError, match="MIC verification failed"):
        server.verify_mic(b"1234", mic)  # ...once: replay detection is on


def test_mic_from_another_context_is_rejected(kerberos_user: str, service_keytab) -> None:
    keytab = service_keytab(SERVICE)
    client_a, _server_a = _handshake(keytab)
    _client_b, server_b = _handshake(keytab)
    with pytest.raises(AuthenticationError, match="MIC verification failed"):
        server_b.verify_mic(b"1234", client_a.get_mic(b"1234"))


def test_wrong_keytab_is_rejected(kerberos_user: str, service_keytab) -> None:
    service_keytab(SERVICE)
    other = service_keytab("daeset/bd/other.fnal.gov")
    token = ClientContext(TARGET, KerberosAuth()).step()
    with pytest.raises(AuthenticationError, match="accept_sec_context failed"):
        ServerContext(other).step(token)
    with pytest.raises(AuthenticationError, match="Cannot use keytab"):
        ServerContext(other, TARGET)


@pytest.mark.parametrize("mutual", [False, True])
def test_replayed_token_is_rejected(kerberos_user: str, service_keytab, mutual: bool) -> None:
    keytab = service_keytab(SERVICE)
    token = ClientContext(TARGET, KerberosAuth(), mutual=mutual).step()
    assert bool(ServerContext(keytab, TARGET).step(token)) == mutual  # a reply token if mutual
    replayed = ServerContext(keytab, TARGET)
    with pytest.raises(AuthenticationError, match=r"accept_sec_context failed.*replay"):
        replayed.step(token)
    assert not replayed.complete
    with pytest.raises(AuthenticationError, match="not established"):
        replayed.initiator  # noqa: B018


def test_unknown_service_and_bad_input(kerberos_user: str, service_keytab, tmp_path) -> None:
    with pytest.raises(AuthenticationError, match="init_sec_context for nosuch/svc"):
        ClientContext("nosuch/svc@FNAL.GOV", KerberosAuth()).step()
    server = ServerContext(service_keytab(SERVICE))
    with pytest.raises(AuthenticationError, match="accept_sec_context failed"):
        server.step(b"not a gss token")
    with pytest.raises(AuthenticationError, match="empty token"):
        server.step(b"")
    with pytest.raises(AuthenticationError, match="not established"):
        _ = server.initiator
    with pytest.raises(AuthenticationError, match="established context"):
        server.get_mic(b"x")
    with pytest.raises(FileNotFoundError, match="keytab not found"):
        ServerContext(tmp_path / "missing.keytab")
    with pytest.raises(TypeError, match="token must be bytes"):
        server.step("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="KerberosAuth"):
        ClientContext(TARGET, object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        krb5_principal("")
    assert str(krb5_principal(TARGET)) == TARGET


def test_gss_and_minikdc_do_not_import_gssapi() -> None:
    code = "import sys, pacsys, pacsys.gss, pacsys.testing.kerberos; print('gssapi' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False"], done.stderr


# -- fuzzing token acceptance -----------------------------------------------------------------


def test_any_token_is_accepted_or_an_authentication_error(
    kerberos_user: str, service_keytab
) -> None:
    """Random bytes and mutations of a genuine token: AuthenticationError, nothing else."""
    from hypothesis import given
    from hypothesis import strategies as st

    keytab = service_keytab(SERVICE)
    genuine = ClientContext(TARGET, KerberosAuth(), mutual=True).step()

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        token = bytearray(genuine)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(token) - 1))
            token[at] = draw(st.integers(0, 255))
        cut = draw(st.integers(1, len(token)))
        return bytes(token[:cut])

    @given(st.one_of(st.binary(min_size=1, max_size=400), mutated()))
    def accept(token: bytes) -> None:
        server = ServerContext(keytab, TARGET)
        try:
            server.step(token)
        except AuthenticationError:
            assert not server.complete
            return
        # Accepted: established for the genuine initiator only, or waiting for another round
        # (a mangled token can ask for one; the services then refuse the incomplete context).
        assert not server.complete or server.initiator == kerberos_user

    accept()
