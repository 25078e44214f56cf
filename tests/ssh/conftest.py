"""Real OpenSSH servers on loopback for the pacsys-ssh tests.

Layout (all throw-away, removed at the end of the session):

* a temp directory (``/tmp/pacsys-sshd-*``, mode 0755) with host keys, client keys,
  ``authorized_keys/<user>`` files (``AuthorizedKeysFile`` points there, so no home
  directory is touched), the sshd configs and a ``bin/`` holding the ``acl`` wrapper;
* ``jump`` and ``target``: ``/usr/sbin/sshd -D -e -f <config>`` on free loopback ports, key
  and password authentication, TCP forwarding, internal SFTP, ``UsePAM no``;
* sessions see ``PATH=<tmp>/bin:...`` and ``SHLVL=1`` (``SetEnv``); the latter stops bash
  from sourcing root's ``~/.bashrc`` for every command, which keeps exec fast;
* key authentication logs in as the current user (root here; ``PermitRootLogin yes`` in the
  throw-away config). Root has no password, and setting one would change the host, so
  password and GSSAPI tests use a dedicated user ``pacsys-sshtest`` (``useradd`` with a
  temp home and a random password via ``chpasswd``; ``userdel`` at the end). The ``acl``
  program runs as root because the venv's interpreter lives under /root;
* ``gssapi_sshd`` (only for the Kerberos tests) adds ``GSSAPIAuthentication yes`` with a
  keytab for ``host/127.0.0.1`` and ``host/localhost`` from the test KDC, and a
  ``.k5login`` naming ``testuser@FNAL.GOV`` in the test user's home.

sshd's privilege-separation directory ``/run/sshd`` is created if missing.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SSHD = "/usr/sbin/sshd"
TEST_USER = "pacsys-sshtest"
START_TIMEOUT = 15.0
HERE = Path(__file__).resolve().parent

if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
    pytest.skip("OpenSSH server (sshd, ssh-keygen) is not installed", allow_module_level=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory needs a real sshd."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.sshd)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path, kind: str = "ed25519", passphrase: str = "", fmt: str = "") -> Path:
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path), "-C", "pacsys"]
    if fmt:
        args += ["-m", fmt]
    subprocess.run(args, check=True, capture_output=True, timeout=30)
    return path


@dataclass
class SSHDaemon:
    """One running ``sshd -D -e``; its stderr is collected by a named reader thread."""

    name: str
    config: Path
    port: int
    host_key: Path
    env: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    _listening: threading.Event = field(default_factory=threading.Event)
    _reader: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in {**os.environ, **self.env}.items() if k != "KRB5CCNAME"},
        )
        self._reader = threading.Thread(
            target=self._read_log, name=f"test-sshd-{self.name}-log", daemon=True
        )
        self._reader.start()
        if not self._listening.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"sshd {self.name} did not start:\n" + "\n".join(self.log))

    def _read_log(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line.rstrip("\n"))
            if "Server listening on" in line:
                self._listening.set()
        self._listening.set()  # sshd exited: wake start() so it can report the log

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def public_host_key(self) -> str:
        return Path(f"{self.host_key}.pub").read_text().split()[1]

    @property
    def host_key_type(self) -> str:
        return Path(f"{self.host_key}.pub").read_text().split()[0]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


@dataclass
class SSHLab:
    """Everything the tests need to reach the daemons."""

    root: Path
    bin_dir: Path
    user_key: Path
    rsa_key: Path
    ecdsa_key: Path
    encrypted_key: Path
    login: str
    test_user: str
    test_password: str
    test_home: Path
    daemons: dict[str, SSHDaemon] = field(default_factory=dict)

    def known_hosts(self, *names: str) -> Path:
        """A known_hosts file listing the named daemons (all when none named)."""
        chosen = [self.daemons[n] for n in names] if names else list(self.daemons.values())
        path = self.root / f"known_hosts-{'-'.join(d.name for d in chosen)}"
        path.write_text(
            "".join(f"[127.0.0.1]:{d.port} {d.host_key_type} {d.public_host_key}\n" for d in chosen)
        )
        return path


def _write_config(lab_root: Path, name: str, port: int, host_key: Path, extra: str = "") -> Path:
    config = lab_root / f"sshd_config-{name}"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile none
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthenticationMethods any
AuthorizedKeysFile {lab_root}/authorized_keys/%u
StrictModes no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
SetEnv PATH={lab_root}/bin:/usr/local/bin:/usr/bin:/bin SHLVL=1
PrintMotd no
PrintLastLog no
MaxSessions 20
LogLevel INFO
{extra}"""
    )
    subprocess.run([SSHD, "-t", "-f", str(config)], check=True, capture_output=True, timeout=30)
    return config


def _start_daemon(
    lab: SSHLab, name: str, extra: str = "", env: dict[str, str] | None = None
) -> SSHDaemon:
    host_key = _keygen(lab.root / f"host_{name}")
    last: Exception | None = None
    for _ in range(3):  # the free port may be taken between picking and binding
        port = _free_port()
        daemon = SSHDaemon(
            name, _write_config(lab.root, name, port, host_key, extra), port, host_key, env or {}
        )
        try:
            daemon.start()
        except RuntimeError as exc:
            last = exc
            continue
        lab.daemons[name] = daemon
        return daemon
    raise RuntimeError(f"could not start sshd {name}: {last}")


@contextlib.contextmanager
def _test_user(home: Path) -> Iterator[str]:
    """Create (or take over a stale) ``pacsys-sshtest`` with ``home`` and a random password."""
    password = secrets.token_urlsafe(18)
    exists = subprocess.run(["id", TEST_USER], capture_output=True, timeout=30).returncode == 0
    if exists:
        subprocess.run(
            ["usermod", "-d", str(home), "-s", "/bin/sh", TEST_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    else:
        subprocess.run(
            ["useradd", "-M", "-d", str(home), "-s", "/bin/sh", TEST_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
    try:
        shutil.chown(home, TEST_USER, TEST_USER)
        subprocess.run(
            ["chpasswd"],
            input=f"{TEST_USER}:{password}\n",
            text=True,
            check=True,
            capture_output=True,
            timeout=30,
        )
        yield password
    finally:
        subprocess.run(["userdel", TEST_USER], capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[SSHLab]:
    """The jump host and the target sshd, keys, the test user and the acl wrapper."""
    if os.geteuid() != 0:
        pytest.skip("the sshd fixtures need root (sshd privilege separation, useradd)")
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="pacsys-sshd-"))
    home = Path(tempfile.mkdtemp(prefix="pacsys-sshtest-home-"))
    lab: SSHLab | None = None
    try:
        root.chmod(0o755)
        (root / "authorized_keys").mkdir(mode=0o755)
        bin_dir = root / "bin"
        bin_dir.mkdir(mode=0o755)
        acl = bin_dir / "acl"
        acl.write_text(f'#!/bin/sh\nexec {sys.executable} {HERE / "acl_program.py"} "$@"\n')
        acl.chmod(0o755)
        user_key = _keygen(root / "id_ed25519")
        rsa_key = _keygen(root / "id_rsa", "rsa")
        ecdsa_key = _keygen(root / "id_ecdsa", "ecdsa", fmt="PEM")
        encrypted = _keygen(root / "id_encrypted", "ed25519", passphrase="secret-pass")
        login = getpass.getuser()
        authorized = "".join(
            Path(f"{k}.pub").read_text() for k in (user_key, rsa_key, ecdsa_key, encrypted)
        )
        with _test_user(home) as password:
            for user in (login, TEST_USER):
                (root / "authorized_keys" / user).write_text(authorized)
            lab = SSHLab(
                root,
                bin_dir,
                user_key,
                rsa_key,
                ecdsa_key,
                encrypted,
                login,
                TEST_USER,
                password,
                home,
            )
            _start_daemon(lab, "jump")
            _start_daemon(lab, "target")
            yield lab
    finally:
        if lab is not None:
            for daemon in lab.daemons.values():
                daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


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
    return _start_daemon(
        ssh_lab,
        "gssapi",
        extra="GSSAPIAuthentication yes\nGSSAPICleanupCredentials yes\n"
        "GSSAPIStrictAcceptorCheck no\n",
        env=env,
    )


@pytest.fixture
def key_hop(ssh_lab: SSHLab, target: SSHDaemon) -> Any:
    """An SSHHop for the target with key authentication as the login user."""
    from pacsys_ssh.hops import SSHHop

    return SSHHop(
        "127.0.0.1", target.port, ssh_lab.login, "key", key_filename=str(ssh_lab.user_key)
    )


@pytest.fixture
def client(key_hop: Any) -> Iterator[Any]:
    """An SSHClient to the target (key auth), closed after the test."""
    from pacsys_ssh.client import SSHClient

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
