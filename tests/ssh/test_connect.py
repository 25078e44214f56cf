"""Hops, authentication, host keys, chains and lifecycle against real sshd daemons."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import pytest

from pacsys.errors import PacsysError
from pacsys_ssh.client import SSHClient
from pacsys_ssh.errors import SSHConnectionError, SSHError
from pacsys_ssh.hops import SSHHop, normalize_hops


def test_seed_paths_reexport_the_ssh_modules() -> None:
    import pacsys.acl_session
    import pacsys.ssh
    import pacsys_ssh.acl_session
    import pacsys_ssh.client

    assert pacsys.ssh.SSHClient is SSHClient
    assert pacsys.ssh.__all__ == pacsys_ssh.client.__all__
    assert pacsys.acl_session.ACLSession is pacsys_ssh.acl_session.ACLSession
    assert pacsys.acl_session.__all__ == pacsys_ssh.acl_session.__all__


# -- hop validation (no network) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hostname": " "}, "hostname must be a non-empty string"),
        ({"hostname": "h", "port": 0}, "port must be an integer from 1 to 65535, got 0"),
        ({"hostname": "h", "port": 70000}, "port must be an integer from 1 to 65535, got 70000"),
        ({"hostname": "h", "auth_method": "x"}, "auth_method must be 'gssapi', 'key', or"),
        ({"hostname": "h", "auth_method": "key"}, "key_filename required"),
        ({"hostname": "h", "auth_method": "password"}, "password required"),
    ],
)
def test_hop_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SSHHop(**kwargs)


def test_hop_normalisation() -> None:
    hop = SSHHop("b", auth_method="password", password="pw")
    assert normalize_hops("a") == [SSHHop("a")]
    assert normalize_hops(["a", hop]) == [SSHHop("a"), hop]
    with pytest.raises(ValueError, match="At least one hop is required"):
        normalize_hops([])
    with pytest.raises(TypeError, match="Expected str or SSHHop, got int"):
        normalize_hops(["a", 3])


def test_password_never_in_repr_or_errors(ssh_lab, target, caplog) -> None:
    secret = "Sup3r-Secret-Value"
    hop = SSHHop("127.0.0.1", target.port, ssh_lab.test_user, "password", password=secret)
    assert secret not in repr(hop)
    caplog.set_level(logging.DEBUG)
    ssh = SSHClient(hop, connect_timeout=5)
    with pytest.raises(SSHConnectionError) as info:
        ssh.exec("true")
    assert "Authentication failed" in str(info.value)
    assert info.value.hop == hop
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in caplog.text
    assert secret not in repr(ssh)
    assert not ssh.connected


def test_non_kerberos_auth_with_gssapi_hop_is_rejected_without_network() -> None:
    with pytest.raises(ValueError, match="GSSAPI hops require KerberosAuth, got object"):
        SSHClient("host.invalid", auth=object())


def test_exceptions_hierarchy() -> None:
    from pacsys.errors import ACLError
    from pacsys_ssh.errors import SSHCommandError, SSHTimeoutError

    for cls in (SSHConnectionError, SSHCommandError, SSHTimeoutError):
        assert issubclass(cls, SSHError)
    assert issubclass(SSHError, PacsysError)
    assert not issubclass(ACLError, SSHError)


# -- authentication ----------------------------------------------------------------------


def test_password_auth_logs_in_as_test_user(ssh_lab, target) -> None:
    hop = SSHHop(
        "127.0.0.1", target.port, ssh_lab.test_user, "password", password=ssh_lab.test_password
    )
    with SSHClient(hop, connect_timeout=5) as ssh:
        assert ssh.exec("id -un", timeout=10).stdout.strip() == ssh_lab.test_user


@pytest.mark.parametrize("key", ["user_key", "rsa_key", "ecdsa_key"])
def test_key_auth_with_each_key_type(ssh_lab, target, key: str) -> None:
    hop = SSHHop(
        "127.0.0.1", target.port, auth_method="key", key_filename=str(getattr(ssh_lab, key))
    )
    assert hop.effective_username == ssh_lab.login
    with SSHClient(hop, connect_timeout=5) as ssh:
        assert ssh.exec("echo $USER", timeout=10).stdout.strip() == ssh_lab.login


def test_key_file_problems(ssh_lab, target, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n")
    cases = {
        str(tmp_path / "missing"): "Key file not found",
        str(ssh_lab.encrypted_key): "is encrypted; passphrase-protected keys are not supported",
        str(garbage): "Invalid private key file",
    }
    for path, message in cases.items():
        hop = SSHHop("127.0.0.1", target.port, auth_method="key", key_filename=path)
        with SSHClient(hop, connect_timeout=5) as ssh:
            with pytest.raises(SSHConnectionError, match=message) as info:
                ssh.exec("true")
            assert info.value.hop == hop
            assert f"(hop: 127.0.0.1:{target.port})" in str(info.value)


def test_refused_connection(ssh_lab) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        hop = SSHHop("127.0.0.1", port, auth_method="key", key_filename=str(ssh_lab.user_key))
        with SSHClient(hop, connect_timeout=5) as ssh:
            with pytest.raises(SSHConnectionError, match="Connection failed") as info:
                ssh.exec("true")
    assert info.value.hop == hop
    assert not ssh.connected


# -- host keys ---------------------------------------------------------------------------


def test_known_hosts_accepts_listed_key(ssh_lab, key_hop) -> None:
    with SSHClient(key_hop, known_hosts=ssh_lab.known_hosts("target")) as ssh:
        assert ssh.exec("echo ok", timeout=10).stdout == "ok\n"


def test_known_hosts_rejects_unknown_and_mismatched_keys(ssh_lab, key_hop, jump) -> None:
    with SSHClient(key_hop, known_hosts=ssh_lab.known_hosts("jump")) as ssh:
        with pytest.raises(SSHConnectionError, match="not in known_hosts"):
            ssh.exec("true")
    wrong = ssh_lab.root / "known_hosts-wrong"
    wrong.write_text(f"[127.0.0.1]:{key_hop.port} {jump.host_key_type} {jump.public_host_key}\n")
    with SSHClient(key_hop, known_hosts=wrong) as ssh:
        with pytest.raises(SSHConnectionError, match=r"Host key verification failed.*does not"):
            ssh.exec("true")


# -- chains ------------------------------------------------------------------------------


def _key(ssh_lab, daemon, user=None) -> SSHHop:
    return SSHHop("127.0.0.1", daemon.port, user, "key", key_filename=str(ssh_lab.user_key))


def test_two_hop_chain_mixed_auth(ssh_lab, jump, target) -> None:
    final = SSHHop(
        "127.0.0.1", target.port, ssh_lab.test_user, "password", password=ssh_lab.test_password
    )
    with SSHClient([_key(ssh_lab, jump), final], known_hosts=ssh_lab.known_hosts()) as ssh:
        assert "127.0.0.1 -> 127.0.0.1" in repr(ssh)
        result = ssh.exec("id -un; echo $SSH_CONNECTION", timeout=10)
        user, connection = result.stdout.splitlines()
        assert user == ssh_lab.test_user
        # the target sees the jump host's sshd as the client (a direct-tcpip relay)
        assert connection.split()[3] == str(target.port)
        assert len(ssh._chain.transports) == 2
    assert ssh._chain is None


def test_failure_on_second_hop_names_it_and_cleans_up(ssh_lab, jump) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = SSHHop(
            "127.0.0.1",
            sock.getsockname()[1],
            auth_method="key",
            key_filename=str(ssh_lab.user_key),
        )
        ssh = SSHClient([_key(ssh_lab, jump), dead], connect_timeout=5)
        before = set(threading.enumerate())
        with pytest.raises(SSHConnectionError, match="Connection failed") as info:
            ssh.exec("true")
    assert info.value.hop == dead
    assert not ssh.connected
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []


def test_close_ends_every_thread_and_is_idempotent(ssh_lab, jump, target, echo_server) -> None:
    before = set(threading.enumerate())
    ssh = SSHClient([_key(ssh_lab, jump), _key(ssh_lab, target)], connect_timeout=5)
    ssh.close()  # harmless before connecting
    tunnel = ssh.forward(0, *echo_server)
    with socket.create_connection(("127.0.0.1", tunnel.local_port), timeout=5) as conn:
        conn.sendall(b"x")
        assert conn.recv(1) == b"x"
        process = ssh.remote_process("cat", timeout=5)
        sftp = ssh.sftp()
        started = {t.name for t in set(threading.enumerate()) - before}
        assert any(name.startswith("pacsys-ssh-transport-") for name in started)
        assert any(name.startswith("pacsys-ssh-tunnel-") for name in started)
        ssh.close()
        ssh.close()
        assert not tunnel.active
        assert not process.alive
        assert conn.recv(1) == b""  # the relay closed the local connection
    sftp.close()
    new = set(threading.enumerate()) - before
    leftover = [t.name for t in new if t.is_alive() and not t.name.startswith("test-")]
    assert leftover == []
    assert not ssh.connected
