"""A real MIT Kerberos KDC on loopback, for tests of code that authenticates with GSS-API.

``MiniKDC`` runs ``krb5kdc`` in the foreground with a throw-away database in a caller-given
directory and writes the ``krb5.conf`` clients need. Nothing outside that directory (no
``/etc/krb5.conf``, no ``/var/lib/krb5kdc``) is read or written. Needs the Debian packages
krb5-kdc, krb5-admin-server and krb5-user.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from pacsys.deadline import Deadline

__all__ = ["MiniKDC", "ticket_is_valid", "wait_until_expired"]

log = logging.getLogger("pacsys.testing.kerberos")

# binary -> Debian package that provides it
_BINARIES = {
    "krb5kdc": "krb5-kdc",
    "kdb5_util": "krb5-kdc",
    "kadmin.local": "krb5-admin-server",
    "kinit": "krb5-user",
    "klist": "krb5-user",
}
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"]
)
_COMMAND_TIMEOUT = 30.0
_START_TIMEOUT = 15.0


def _binary(name: str) -> str:
    """Absolute path of a Kerberos tool, or RuntimeError naming the package to install."""
    found = shutil.which(name, path=_SEARCH_PATH)
    if found is None:
        raise RuntimeError(
            f"{name} not found: install the Debian package {_BINARIES[name]} "
            "(apt-get install krb5-kdc krb5-admin-server krb5-user)"
        )
    return found


def _free_port() -> int:
    """A loopback port free for both TCP and UDP (the KDC listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("could not find a free loopback port for the KDC")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the KDC when the thread that started it dies (no orphans on a crash)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(
    args: list[str], env: dict[str, str] | None, stdin: str = ""
) -> subprocess.CompletedProcess[bytes]:
    """Run a Kerberos tool to completion within _COMMAND_TIMEOUT, output captured.

    ``stdin`` is all the tool gets to read (never the terminal), so a prompt cannot hang.
    """
    return subprocess.run(
        args,
        input=stdin.encode(),
        env=env,
        capture_output=True,
        timeout=_COMMAND_TIMEOUT,
        check=False,
    )


def _stderr(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode(errors="replace").strip()


def ticket_is_valid(ccache: Path | str, env: dict[str, str] | None = None) -> bool:
    """True when ``ccache`` holds an unexpired ticket (``klist -s``)."""
    return _run([_binary("klist"), "-s", "-c", _ccache_name(ccache)], env).returncode == 0


def wait_until_expired(
    ccache: Path | str, timeout: float = 10.0, env: dict[str, str] | None = None
) -> None:
    """Block until every ticket in ``ccache`` has expired; TimeoutError after ``timeout`` s.

    Polls ``klist -s`` (waits on the condition itself, not a guessed delay).
    """
    deadline = Deadline.after(timeout)
    pause = threading.Event()
    while ticket_is_valid(ccache, env):
        if deadline.expired:
            raise TimeoutError(f"ticket in {ccache} still valid after {timeout} s")
        pause.wait(0.1)


def _ccache_name(ccache: Path | str) -> str:
    text = str(ccache)
    return text if ":" in text.split("/", 1)[0] else f"FILE:{text}"


class MiniKDC:
    """A throw-away MIT KDC for realm ``realm`` on a free loopback port.

    Use as a context manager (or ``start()``/``stop()``); principals, keytabs and tickets
    are made with :meth:`add_principal`, :meth:`keytab` and :meth:`kinit`. On Linux the KDC
    is killed if the thread that started it dies, so start it from a long-lived thread.
    """

    def __init__(self, workdir: Path, realm: str = "FNAL.GOV") -> None:
        if not realm or realm != realm.upper() or any(c.isspace() for c in realm):
            raise ValueError(f"realm must be a non-empty upper-case name, got {realm!r}")
        self.workdir = Path(workdir)
        self.realm = realm
        self.krb5_conf = self.workdir / "krb5.conf"
        self.kdc_conf = self.workdir / "kdc.conf"
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file = self.workdir / "krb5kdc.log"

    def __repr__(self) -> str:
        state = f"port={self.port}" if self._process else "stopped"
        return f"MiniKDC(realm={self.realm!r}, {state})"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> MiniKDC:
        """Create the database, start ``krb5kdc`` and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("MiniKDC is already running")
        for name in _BINARIES:
            _binary(name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "rcache").mkdir(exist_ok=True)
        last_error: Exception | None = None
        for _attempt in range(3):  # another process may grab the port between pick and bind
            self.port = _free_port()
            self._write_config()
            if not (self.workdir / "principal").exists():
                self._create_database()
            try:
                self._launch()
            except RuntimeError as exc:
                last_error = exc
                continue
            log.info("KDC for %s listening on 127.0.0.1:%d", self.realm, self.port)
            return self
        raise RuntimeError(f"KDC failed to start: {last_error}")

    def stop(self) -> None:
        """Stop ``krb5kdc`` (the database directory is left for the caller to remove)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> MiniKDC:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- principals, keytabs, tickets ------------------------------------------------------

    def principal_name(self, name: str) -> str:
        """``name`` with ``@REALM`` appended unless it already has a realm."""
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise ValueError(f"principal name must be a non-empty string without spaces: {name!r}")
        return name if "@" in name else f"{name}@{self.realm}"

    def add_principal(
        self, name: str, password: str | None = None, *, max_life: str | None = None
    ) -> str:
        """Create (or update) a principal; random key when ``password`` is None.

        ``max_life`` is a kadmin duration such as ``"10 seconds"``. Returns the full name.
        """
        principal = self.principal_name(name)
        life = f'-maxlife "{max_life}" ' if max_life else ""
        exists = self._principal_exists(principal)
        if password is None:
            command = (
                f"modprinc {life}{principal}" if exists else f"addprinc {life}-randkey {principal}"
            )
            if not exists or life:
                self._kadmin(command)
        # The password goes in on stdin, twice (kadmin asks to confirm), never on argv.
        elif exists:
            self._kadmin(f"cpw {principal}", stdin=f"{password}\n{password}\n")
            if life:
                self._kadmin(f"modprinc {life}{principal}")
        else:
            self._kadmin(f"addprinc {life}{principal}", stdin=f"{password}\n{password}\n")
        if not self._principal_exists(principal):
            raise RuntimeError(f"kadmin did not create principal {principal}")
        return principal

    def keytab(self, principal: str, path: Path | None = None) -> Path:
        """Export ``principal``'s current keys (no re-keying) to a keytab file."""
        principal = self.principal_name(principal)
        if path is None:
            safe = principal.replace("/", "_").replace("@", "_")
            path = self.workdir / "keytabs" / f"{safe}.keytab"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._kadmin(f"ktadd -k {path} -norandkey {principal}")
        if not path.exists() or path.stat().st_size == 0:
            raise RuntimeError(f"kadmin did not write a keytab for {principal} to {path}")
        return path

    def kinit(
        self,
        principal: str,
        ccache: Path,
        *,
        password: str | None = None,
        keytab: Path | None = None,
        lifetime: str | None = None,
    ) -> Path:
        """Get a TGT for ``principal`` into ``ccache`` using a password or a keytab.

        ``lifetime`` is a kinit duration ("1s", "10m", ...). Returns ``ccache``.
        """
        if (password is None) == (keytab is None):
            raise ValueError("kinit needs exactly one of password= or keytab=")
        principal = self.principal_name(principal)
        ccache = Path(ccache)
        ccache.parent.mkdir(parents=True, exist_ok=True)
        args = [_binary("kinit"), "-c", f"FILE:{ccache}"]
        if lifetime is not None:
            args += ["-l", lifetime]
        if keytab is not None:
            args += ["-k", "-t", str(keytab)]
        args.append(principal)
        done = _run(args, self.env(), "" if password is None else f"{password}\n")
        if done.returncode != 0:
            raise RuntimeError(f"kinit {principal} failed: {_stderr(done)}")
        return ccache

    def env(self, ccache: Path | None = None) -> dict[str, str]:
        """Environment variables pointing MIT Kerberos clients at this KDC (and ``ccache``)."""
        env = {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5RCACHEDIR": str(self.workdir / "rcache"),
        }
        if ccache is not None:
            env["KRB5CCNAME"] = _ccache_name(ccache)
        return env

    def wait_until_expired(self, ccache: Path, timeout: float = 10.0) -> None:
        """Block until the tickets in ``ccache`` have expired (see :func:`wait_until_expired`)."""
        wait_until_expired(ccache, timeout, env={**os.environ, **self.env()})

    # -- internals -------------------------------------------------------------------------

    def _write_config(self) -> None:
        realm, port, work = self.realm, self.port, self.workdir
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f"    default_realm = {realm}\n"
            "    dns_lookup_kdc = false\n"
            "    dns_lookup_realm = false\n"
            "    dns_canonicalize_hostname = false\n"
            "    rdns = false\n"
            "    udp_preference_limit = 1\n"
            "    kdc_timeout = 5000\n"
            "    max_retries = 2\n"
            "\n[realms]\n"
            f"    {realm} = {{\n"
            f"        kdc = 127.0.0.1:{port}\n"
            "    }\n"
            "\n[domain_realm]\n"
            f"    .fnal.gov = {realm}\n"
            f"    fnal.gov = {realm}\n"
            f"    localhost = {realm}\n",
            encoding="utf-8",
        )
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            f"    kdc_listen = 127.0.0.1:{port}\n"
            f"    kdc_tcp_listen = 127.0.0.1:{port}\n"
            "\n[realms]\n"
            f"    {realm} = {{\n"
            f"        database_name = {work / 'principal'}\n"
            f"        key_stash_file = {work / 'stash'}\n"
            f"        acl_file = {work / 'kadm5.acl'}\n"
            f"        kdc_listen = 127.0.0.1:{port}\n"
            f"        kdc_tcp_listen = 127.0.0.1:{port}\n"
            "        max_life = 1d\n"
            "        max_renewable_life = 7d\n"
            "    }\n"
            "\n[logging]\n"
            f"    kdc = FILE:{self._log_file}\n"
            f"    admin_server = FILE:{work / 'kadmin.log'}\n"
            f"    default = FILE:{work / 'krb5lib.log'}\n",
            encoding="utf-8",
        )
        (work / "kadm5.acl").write_text("", encoding="utf-8")

    def _admin_env(self) -> dict[str, str]:
        return {**os.environ, **self.env(), "KRB5_KDC_PROFILE": str(self.kdc_conf)}

    def _create_database(self) -> None:
        master = secrets.token_urlsafe(24)
        done = _run(
            [_binary("kdb5_util"), "-r", self.realm, "create", "-s", "-W"],
            self._admin_env(),
            f"{master}\n{master}\n",
        )
        if done.returncode != 0:
            raise RuntimeError(f"kdb5_util create failed: {_stderr(done)}")

    def _launch(self) -> None:
        assert self.port is not None
        self._process = subprocess.Popen(
            [_binary("krb5kdc"), "-n", "-r", self.realm],
            env=self._admin_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        deadline = Deadline.after(_START_TIMEOUT)
        pause = threading.Event()
        while True:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"krb5kdc exited at start-up; see {self._log_file}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if deadline.expired:
                self.stop()
                raise RuntimeError(f"krb5kdc not listening after {_START_TIMEOUT} s")
            pause.wait(0.05)

    def _kadmin_run(self, query: str, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
        return _run(
            [_binary("kadmin.local"), "-r", self.realm, "-q", query], self._admin_env(), stdin
        )

    def _kadmin(self, query: str, stdin: str = "") -> str:
        """Run one kadmin.local query; RuntimeError when it reports an error."""
        done = self._kadmin_run(query, stdin)
        errors = _stderr(done)
        failed = [line for line in errors.splitlines() if " while " in line]
        if done.returncode != 0 or failed:
            verb = query.split(maxsplit=1)[0]
            raise RuntimeError(f"kadmin.local {verb} failed: {errors}")
        return done.stdout.decode(errors="replace")

    def _principal_exists(self, principal: str) -> bool:
        done = self._kadmin_run(f"getprinc {principal}")
        return f"Principal: {principal}" in done.stdout.decode(errors="replace")
