"""Real OpenSSH servers on loopback, for tests of code that uses pacsys-ssh.

``ssh_lab()`` starts two throw-away ``sshd -D -e`` daemons (``jump`` and ``target``) on free
loopback ports and yields an ``SSHLab`` with everything a client needs to reach them::

    from pacsys_ssh.hops import SSHHop
    from pacsys_ssh.testing import ssh_lab

    with ssh_lab() as lab:
        target = lab.daemons["target"]
        hop = SSHHop("127.0.0.1", target.port, lab.login, "key", key_filename=str(lab.user_key))

All state lives in a temp directory (``/tmp/pacsys-sshd-*``, mode 0755, removed on exit):
host keys, client keys (ed25519, RSA, PEM ECDSA and a passphrase-protected ed25519 one,
passphrase ``secret-pass``), ``authorized_keys/<user>`` files (``AuthorizedKeysFile`` points
there, so no home directory is touched), the sshd configs and ``bin/``, which comes first on
the sessions' ``PATH`` (put the programs under test there). Sessions also get ``SHLVL=1``,
which stops bash from sourcing root's ``~/.bashrc`` for every command and keeps exec fast.

The daemons accept key and password logins, TCP forwarding and internal SFTP (``UsePAM no``,
``PermitRootLogin yes``). Key logins use the current user. Password (and GSSAPI) logins use a
system user of the lab's own, ``pacsys-ssh-<pid>`` (home in a temp directory, random
password), created with ``useradd`` and removed with ``userdel`` on exit, so the current
user's password is never touched and labs of concurrent processes do not meet; users left
by processes that died are removed first. Needs root (sshd privilege separation,
``useradd``) and the Debian package openssh-server; ``/run/sshd`` is created if missing.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SSHD", "SSHDaemon", "SSHLab", "missing_requirement", "ssh_lab"]

SSHD = "/usr/sbin/sshd"
_USER_PREFIX = "pacsys-ssh-"  # + the pid of the process whose lab it is
_START_TIMEOUT = 15.0
_COMMAND_TIMEOUT = 30.0


def missing_requirement() -> str | None:
    """Why ``ssh_lab()`` cannot run here (a sentence), or None when it can."""
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        return "OpenSSH server (sshd, ssh-keygen) is not installed: apt-get install openssh-server"
    if os.geteuid() != 0:
        return "the sshd lab needs root (sshd privilege separation, useradd)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, text=True, check=True, capture_output=True, timeout=_COMMAND_TIMEOUT
    )


def _keygen(path: Path, kind: str = "ed25519", passphrase: str = "", fmt: str = "") -> Path:
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path), "-C", "pacsys"]
    _run([*args, "-m", fmt] if fmt else args)
    return path


@dataclass
class SSHDaemon:
    """One running ``sshd -D -e``; a reader thread collects its log (``log``)."""

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
        """Start sshd and wait until it listens; RuntimeError with its log if it does not."""
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in {**os.environ, **self.env}.items() if k != "KRB5CCNAME"},
        )
        self._reader = threading.Thread(
            target=self._read_log, name=f"sshd-{self.name}-log", daemon=True
        )
        self._reader.start()
        if not self._listening.wait(_START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"sshd {self.name} did not start:\n" + "\n".join(self.log))
        if not self.running:
            self.stop()
            raise RuntimeError(f"sshd {self.name} exited:\n" + "\n".join(self.log))

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
        """Terminate sshd (kill after 10 s) and join its log reader."""
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
    """The lab's directory, keys, users and running daemons (by name)."""

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

    def start_daemon(
        self, name: str, extra: str = "", env: dict[str, str] | None = None
    ) -> SSHDaemon:
        """Start one more sshd, its config extended by the ``extra`` sshd_config lines."""
        host_key = _keygen(self.root / f"host_{name}")
        last: Exception | None = None
        for _ in range(3):  # the free port may be taken between picking and binding
            port = _free_port()
            config = self._write_config(name, port, host_key, extra)
            daemon = SSHDaemon(name, config, port, host_key, env or {})
            try:
                daemon.start()
            except RuntimeError as exc:
                last = exc
                continue
            self.daemons[name] = daemon
            return daemon
        raise RuntimeError(f"could not start sshd {name}: {last}")

    def _write_config(self, name: str, port: int, host_key: Path, extra: str) -> Path:
        config = self.root / f"sshd_config-{name}"
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
AuthorizedKeysFile {self.root}/authorized_keys/%u
StrictModes no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
SetEnv PATH={self.bin_dir}:/usr/local/bin:/usr/bin:/bin SHLVL=1
PrintMotd no
PrintLastLog no
MaxSessions 20
LogLevel INFO
{extra}"""
        )
        _run([SSHD, "-t", "-f", str(config)])
        return config


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _remove_stale_users() -> None:
    """Delete lab users whose process is gone (killed before it could clean up), and one
    left under this process' own pid by an earlier process with the same pid."""
    for entry in pwd.getpwall():
        pid = entry.pw_name.removeprefix(_USER_PREFIX)
        if not entry.pw_name.startswith(_USER_PREFIX) or not pid.isdigit():
            continue
        if int(pid) == os.getpid() or not _alive(int(pid)):
            subprocess.run(["userdel", entry.pw_name], check=False, capture_output=True, timeout=30)


@contextlib.contextmanager
def _test_user(home: Path) -> Iterator[tuple[str, str]]:
    """This process' lab user with ``home`` and a random password: (name, password)."""
    _remove_stale_users()
    user = f"{_USER_PREFIX}{os.getpid()}"
    password = secrets.token_urlsafe(18)
    _run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", user])
    try:
        shutil.chown(home, user, user)
        _run(["chpasswd"], stdin=f"{user}:{password}\n")
        yield user, password
    finally:
        subprocess.run(["userdel", user], check=False, capture_output=True, timeout=30)


@contextlib.contextmanager
def ssh_lab() -> Iterator[SSHLab]:
    """The ``jump`` and ``target`` daemons, keys and the test user; all removed on exit.

    One lab per process at a time (the test user is named after the process).
    """
    problem = missing_requirement()
    if problem is not None:
        raise RuntimeError(problem)
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="pacsys-sshd-"))
    home = Path(tempfile.mkdtemp(prefix="pacsys-ssh-home-"))
    try:
        root.chmod(0o755)
        (root / "authorized_keys").mkdir(mode=0o755)
        bin_dir = root / "bin"
        bin_dir.mkdir(mode=0o755)
        keys = (  # a tuple: SSHLab takes exactly these four, in this order
            _keygen(root / "id_ed25519"),
            _keygen(root / "id_rsa", "rsa"),
            _keygen(root / "id_ecdsa", "ecdsa", fmt="PEM"),
            _keygen(root / "id_encrypted", "ed25519", passphrase="secret-pass"),
        )
        login = getpass.getuser()
        authorized = "".join(Path(f"{key}.pub").read_text() for key in keys)
        with _test_user(home) as (user, password):
            for name in (login, user):
                (root / "authorized_keys" / name).write_text(authorized)
            lab = SSHLab(root, bin_dir, *keys, login, user, password, home)
            try:
                lab.start_daemon("jump")
                lab.start_daemon("target")
                yield lab
            finally:
                for daemon in lab.daemons.values():
                    daemon.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
