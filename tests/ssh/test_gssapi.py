"""GSSAPI (Kerberos) hops against a real sshd and the test MIT KDC."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pacsys.auth import KerberosAuth
from pacsys.errors import AuthenticationError
from pacsys_ssh.client import SSHClient
from pacsys_ssh.errors import SSHConnectionError
from pacsys_ssh.hops import SSHHop


@pytest.fixture
def forwardable_user(kdc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A forwardable TGT (kinit -f) for sshdeleg@FNAL.GOV; delegation needs one."""
    password = secrets.token_urlsafe(16)
    principal = kdc.add_principal("sshdeleg", password)
    ccache = tmp_path / "krb5cc"
    subprocess.run(
        [shutil.which("kinit") or "kinit", "-f", "-c", f"FILE:{ccache}", principal],
        input=f"{password}\n",
        text=True,
        env={**kdc.env(), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=30,
    )
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    return principal


def test_gssapi_login_with_delegation(ssh_lab, gssapi_sshd, forwardable_user) -> None:
    hop = SSHHop("127.0.0.1", gssapi_sshd.port, ssh_lab.test_user)
    with SSHClient(hop, connect_timeout=5) as ssh:
        result = ssh.exec('id -un; echo "ccache=$KRB5CCNAME"; klist', timeout=10)
    user, ccache, *klist = result.stdout.splitlines()
    assert user == ssh_lab.test_user
    assert ccache.startswith("ccache=FILE:")  # sshd stored the delegated TGT
    assert any("sshdeleg@FNAL.GOV" in line for line in klist)


def test_gssapi_without_delegation(ssh_lab, gssapi_sshd, forwardable_user) -> None:
    hop = SSHHop("127.0.0.1", gssapi_sshd.port, ssh_lab.test_user, delegate_credentials=False)
    with SSHClient(hop, auth=KerberosAuth(), connect_timeout=5) as ssh:
        result = ssh.exec('echo "ccache=$KRB5CCNAME"', timeout=10)
    assert result.stdout == "ccache=\n"


def test_gssapi_username_defaults_to_principal(ssh_lab, gssapi_sshd, kerberos_user) -> None:
    hop = SSHHop("127.0.0.1", gssapi_sshd.port)
    assert hop.effective_username == "testuser"
    with SSHClient(hop, connect_timeout=5) as ssh:
        # there is no local user "testuser": sshd refuses the login
        with pytest.raises(SSHConnectionError, match="failed") as info:
            ssh.exec("true", timeout=10)
    assert info.value.hop == hop


def test_gssapi_refused_when_principal_not_in_k5login(ssh_lab, gssapi_sshd, kerberos_user) -> None:
    hop = SSHHop("127.0.0.1", gssapi_sshd.port, "root")
    with SSHClient(hop, connect_timeout=5) as ssh:
        with pytest.raises(SSHConnectionError, match="Authentication failed"):
            ssh.exec("true", timeout=10)


def test_gssapi_through_jump_host(ssh_lab, jump, gssapi_sshd, kerberos_user) -> None:
    hops = [
        SSHHop("127.0.0.1", jump.port, auth_method="key", key_filename=str(ssh_lab.user_key)),
        SSHHop("127.0.0.1", gssapi_sshd.port, ssh_lab.test_user),
    ]
    with SSHClient(hops, connect_timeout=5) as ssh:
        assert ssh.exec("id -un", timeout=10).stdout.strip() == ssh_lab.test_user


def test_no_ticket_fails_fast(gssapi_sshd, no_kerberos_ticket) -> None:
    with pytest.raises(AuthenticationError, match="No valid Kerberos ticket"):
        SSHClient(SSHHop("127.0.0.1", gssapi_sshd.port, "anyone"))


def test_auth_principal_must_be_cache_default(kerberos_user, kdc, monkeypatch) -> None:
    class OtherAuth(KerberosAuth):
        @property
        def principal(self) -> str:
            return "someone-else@FNAL.GOV"

    with pytest.raises(AuthenticationError, match=r"default principal testuser@FNAL\.GOV"):
        SSHClient("127.0.0.1", auth=OtherAuth())


def test_gssapi_not_offered_by_server(ssh_lab, target, kerberos_user) -> None:
    hop = SSHHop("127.0.0.1", target.port, ssh_lab.test_user)
    with SSHClient(hop, connect_timeout=5) as ssh:
        with pytest.raises(SSHConnectionError, match="does not offer gssapi-with-mic") as info:
            ssh.exec("true", timeout=10)
    assert info.value.hop == hop
    assert "publickey" in str(info.value)
