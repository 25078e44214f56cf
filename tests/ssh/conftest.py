"""Fixtures for the pacsys-ssh tests on the real sshd daemons of ``ssh_lab``.

``ssh_lab`` (tests/conftest.py, built on ``pacsys_ssh.testing``) runs the ``jump`` and
``target`` daemons; here: a key-authenticated client to the target, a third daemon accepting
GSSAPI logins from the test KDC, and a TCP echo server to forward to.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pacsys_ssh.client import SSHClient
from pacsys_ssh.hops import SSHHop
from pacsys_ssh.testing import SSHDaemon, SSHLab


@pytest.fixture(scope="session")
def jump(ssh_lab: SSHLab) -> SSHDaemon:
    return ssh_lab.daemons["jump"]


@pytest.fixture(scope="session")
def target(ssh_lab: SSHLab) -> SSHDaemon:
    return ssh_lab.daemons["target"]


@pytest.fixture(scope="session")
def gssapi_sshd(ssh_lab: SSHLab, kdc: Any) -> SSHDaemon:
    """A third sshd accepting GSSAPI (Kerberos) logins of testuser@FNAL.GOV as the test user."""
    existing = ssh_lab.daemons.get("gssapi")
    if existing is not None:
        return existing
    keytab = ssh_lab.root / "sshd.keytab"
    for host in ("host/127.0.0.1", "host/localhost"):
        kdc.add_principal(host)
        kdc.keytab(host, keytab)
    keytab.chmod(0o600)
    k5login = ssh_lab.test_home / ".k5login"
    k5login.write_text("testuser@FNAL.GOV\nsshdeleg@FNAL.GOV\n")
    shutil.chown(k5login, ssh_lab.test_user, ssh_lab.test_user)
    # Storing delegated credentials runs as the logged-in user, who cannot read pytest's
    # 0700 temp dirs: give sshd a world-readable copy of the KDC's krb5.conf.
    krb5_conf = ssh_lab.root / "krb5.conf"
    shutil.copyfile(kdc.env()["KRB5_CONFIG"], krb5_conf)
    krb5_conf.chmod(0o644)
    env = {**kdc.env(), "KRB5_CONFIG": str(krb5_conf), "KRB5_KTNAME": f"FILE:{keytab}"}
    return ssh_lab.start_daemon(
        "gssapi",
        extra="GSSAPIAuthentication yes\nGSSAPICleanupCredentials yes\n"
        "GSSAPIStrictAcceptorCheck no\n",
        env=env,
    )


@pytest.fixture
def key_hop(ssh_lab: SSHLab, target: SSHDaemon) -> SSHHop:
    """An SSHHop for the target with key authentication as the login user."""
    return SSHHop(
        "127.0.0.1", target.port, ssh_lab.login, "key", key_filename=str(ssh_lab.user_key)
    )


@pytest.fixture
def client(key_hop: SSHHop) -> Iterator[SSHClient]:
    """An SSHClient to the target (key auth), closed after the test."""
    ssh = SSHClient(key_hop, connect_timeout=5.0)
    try:
        yield ssh
    finally:
        ssh.close()


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """A tiny threaded TCP echo server on loopback; yields (host, port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            worker = threading.Thread(
                target=serve, args=(conn,), name="test-echo-conn", daemon=True
            )
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept, name="test-echo-accept", daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(5)
        for worker in workers:
            worker.join(5)
