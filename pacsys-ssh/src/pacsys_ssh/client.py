"""SSHClient: lazy multi-hop SSH connection with exec, streaming, tunnels, SFTP and ACL.

This module is what ``pacsys.ssh`` re-exports.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko

from pacsys.deadline import Deadline
from pacsys.errors import AuthenticationError
from pacsys_ssh._closing import Closing
from pacsys_ssh._paramiko import ChannelWatch, start_exec
from pacsys_ssh.acl_session import ACLSession, run_acl_script
from pacsys_ssh.connect import Chain, connect_chain
from pacsys_ssh.errors import (
    ACLError,
    SSHCommandError,
    SSHConnectionError,
    SSHError,
    SSHTimeoutError,
)
from pacsys_ssh.hops import HopSpec, SSHHop, default_principal, normalize_hops
from pacsys_ssh.process import RemoteProcess
from pacsys_ssh.sftp import SFTPSession
from pacsys_ssh.tunnel import Tunnel

__all__ = [
    "ACLError",
    "ACLSession",
    "CommandResult",
    "HopSpec",
    "RemoteProcess",
    "SFTPSession",
    "SSHClient",
    "SSHCommandError",
    "SSHConnectionError",
    "SSHError",
    "SSHHop",
    "SSHTimeoutError",
    "Tunnel",
]

logger = logging.getLogger("pacsys_ssh.client")

CHUNK = 65536
POLL = 0.1


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """Result of a remote command: exit status and decoded output."""

    command: str
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_code == 0


def _timed_out(command: str, timeout: float | None) -> str:
    return f"Command timed out after {timeout}s: '{command}'"


def _stdout_chunks(
    watch: ChannelWatch, stderr: bytearray, deadline: Deadline, timeout_message: str
) -> Iterator[bytes]:
    """Yield stdout chunks until the command has exited and all output is read.

    stderr is appended to ``stderr`` as it arrives; SSHTimeoutError past ``deadline``. The
    exit status may arrive before the last output (the server sends it when the process
    ends, while output can still wait for window space): only end of file ends the output.
    """
    channel = watch.channel
    while True:
        if deadline.expired:
            raise SSHTimeoutError(timeout_message)
        # read before draining: output that arrived before the end is in the buffers
        ended = channel.exit_status_ready() and (channel.eof_received or channel.closed)
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(CHUNK)
        if channel.recv_ready():
            yield channel.recv(CHUNK)
            continue
        if ended:
            return
        watch.wait(min(POLL, deadline.remaining()))


class SSHClient(Closing):
    """SSH client with multi-hop chains, command execution, tunnels, SFTP and ACL.

    The connection is made lazily by the first operation. ``hops`` is a hostname, an
    :class:`SSHHop` or a list of them (jump hosts first). ``auth`` is an optional
    ``KerberosAuth`` for GSSAPI hops. ``known_hosts`` names an OpenSSH known_hosts file
    against which every hop's host key is verified; without it host keys are accepted
    unverified (fingerprints logged at DEBUG), like the reference implementation.
    """

    def __init__(
        self,
        hops: HopSpec | list[HopSpec],
        auth: Any = None,
        connect_timeout: float = 10.0,
        *,
        known_hosts: str | Path | None = None,
    ) -> None:
        self._hops = normalize_hops(hops)
        if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)):
            raise TypeError("connect_timeout must be a number of seconds")
        if connect_timeout <= 0:
            raise ValueError(f"connect_timeout must be positive, got {connect_timeout}")
        self._connect_timeout = float(connect_timeout)
        self._auth = self._check_auth(auth)
        self._known_hosts = self._load_known_hosts(known_hosts)
        self._lock = threading.Lock()
        self._chain: Chain | None = None
        self._tunnels: list[Tunnel] = []

    def _check_auth(self, auth: Any) -> Any:
        if not any(hop.auth_method == "gssapi" for hop in self._hops):
            return None
        try:
            import gssapi  # noqa: F401
        except ImportError as exc:
            raise ImportError("GSSAPI hops need the gssapi package: pip install gssapi") from exc
        from pacsys.auth import KerberosAuth

        if auth is None:
            return KerberosAuth()  # fail fast without a valid ticket
        if not isinstance(auth, KerberosAuth):
            raise ValueError(f"GSSAPI hops require KerberosAuth, got {type(auth).__name__}")
        principal = default_principal()
        if auth.principal != principal:
            raise AuthenticationError(
                f"KerberosAuth principal {auth.principal} is not the credential cache's "
                f"default principal {principal}; SSH can only present the default principal"
            )
        return auth

    @staticmethod
    def _load_known_hosts(path: str | Path | None) -> paramiko.HostKeys | None:
        if path is None:
            return None
        file = Path(path).expanduser()
        if not file.is_file():
            raise ValueError(f"known_hosts file not found: {file}")
        return paramiko.HostKeys(str(file))

    # -- connection ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True once the chain is built (stays True if the transport later dies)."""
        return self._chain is not None

    @property
    def hops(self) -> list[SSHHop]:
        """A copy of the hop list."""
        return list(self._hops)

    def _final_transport(self) -> paramiko.Transport:
        """The last hop's transport, connecting first if needed."""
        chain = self._chain
        if chain is None:
            with self._lock:
                if self._chain is None:
                    self._chain = connect_chain(
                        self._hops, self._auth, self._connect_timeout, self._known_hosts
                    )
                chain = self._chain
        transport = chain.final
        if not transport.is_active():
            raise SSHConnectionError("Transport is no longer active")
        return transport

    def _open_session(
        self, command: str, timeout: float | None, deadline: Deadline
    ) -> paramiko.Channel:
        """Open a session channel and start ``command`` within the deadline."""
        transport = self._final_transport()
        if deadline.expired:
            raise SSHTimeoutError(_timed_out(command, timeout))
        try:
            channel = transport.open_session(timeout=deadline.wait_time(0.001))
        except paramiko.SSHException as exc:
            if "timeout" in str(exc).lower() or deadline.expired:
                raise SSHTimeoutError(
                    f"Timed out opening SSH session for command '{command}'"
                ) from None
            if not transport.is_active():
                raise SSHConnectionError("Transport is no longer active") from exc
            raise
        try:
            channel.settimeout(deadline.wait_time(0.001))
            if not start_exec(channel, command, deadline.wait_time(0.001)):
                raise SSHTimeoutError(
                    f"Command timed out after {timeout}s before the server started it: '{command}'"
                )
        except BaseException:
            channel.close()
            raise
        return channel

    # -- commands -----------------------------------------------------------------------

    def exec(
        self, command: str, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        """Run ``command`` and collect its exit status, stdout and stderr.

        A non-zero exit does not raise (check ``result.ok``). Raises SSHTimeoutError past
        ``timeout`` seconds (None waits forever) and SSHConnectionError when disconnected.
        """
        deadline = Deadline.after(timeout)
        watch = ChannelWatch(self._open_session(command, timeout, deadline))
        channel = watch.channel
        stdout, stderr = bytearray(), bytearray()
        try:
            if input is not None:
                try:
                    channel.sendall(input.encode("utf-8"))
                except OSError:
                    if not channel.closed:
                        raise
                    # the command ended without reading all its input: its result follows
            channel.shutdown_write()
            for chunk in _stdout_chunks(watch, stderr, deadline, _timed_out(command, timeout)):
                stdout += chunk
            exit_code = channel.recv_exit_status()
        except TimeoutError:
            raise SSHTimeoutError(_timed_out(command, timeout)) from None
        finally:
            watch.close()
        return CommandResult(
            command=command,
            exit_code=exit_code,
            stdout=stdout.decode("utf-8", errors="replace"),
            stderr=stderr.decode("utf-8", errors="replace"),
        )

    def exec_stream(self, command: str, timeout: float | None = None) -> Iterator[str]:
        """Yield stdout lines as they arrive; raise SSHCommandError after them on failure."""
        deadline = Deadline.after(timeout)
        watch = ChannelWatch(self._open_session(command, timeout, deadline))
        stderr = bytearray()
        pending = ""
        try:
            watch.channel.shutdown_write()
            for chunk in _stdout_chunks(watch, stderr, deadline, _timed_out(command, timeout)):
                pending += chunk.decode("utf-8", errors="replace")
                *lines, pending = pending.split("\n")
                yield from lines
            if pending:
                yield pending
            exit_code = watch.channel.recv_exit_status()
        except TimeoutError:
            raise SSHTimeoutError(_timed_out(command, timeout)) from None
        finally:
            watch.close()
        if exit_code != 0:
            raise SSHCommandError(command, exit_code, stderr.decode("utf-8", errors="replace"))

    def exec_many(self, commands: list[str], timeout: float | None = None) -> list[CommandResult]:
        """Run each command in order (own channel, same per-command timeout)."""
        return [self.exec(command, timeout=timeout) for command in commands]

    def open_channel(self, command: str, timeout: float | None = None) -> paramiko.Channel:
        """Start ``command`` with stdin left open; the caller owns (and closes) the channel.

        ``timeout`` bounds the start and becomes the channel timeout for reads and writes.
        Wait on it with its blocking reads or :meth:`remote_process`, not ``select()``:
        paramiko's ``Channel.fileno()`` pipe can break the connection when the channel closes.
        """
        deadline = Deadline.after(timeout)
        channel = self._open_session(command, timeout, deadline)
        channel.settimeout(timeout)
        return channel

    def remote_process(self, command: str, *, timeout: float = 30.0) -> RemoteProcess:
        """Start a persistent interactive process (see :class:`RemoteProcess`)."""
        return RemoteProcess(self, command, timeout=timeout)

    # -- tunnels and files --------------------------------------------------------------

    def forward(self, local_port: int, remote_host: str, remote_port: int) -> Tunnel:
        """Forward ``127.0.0.1:local_port`` (0 = any free port) to ``remote_host:remote_port``."""
        transport = self._final_transport()
        tunnel = Tunnel(
            transport, local_port, remote_host, remote_port, open_timeout=self._connect_timeout
        )
        self._tunnels.append(tunnel)
        return tunnel

    def sftp(self) -> SFTPSession:
        """Open an SFTP session on the final host."""
        client = paramiko.SFTPClient.from_transport(self._final_transport())
        if client is None:
            raise SSHConnectionError("Failed to open SFTP session")
        return SFTPSession(client)

    # -- ACL ----------------------------------------------------------------------------

    def acl(self, command: str | list[str], timeout: float | None = None) -> str:
        """Run ACL line(s) as a remote script and return the output without prompts."""
        return run_acl_script(self, command, timeout)

    def acl_session(self, *, timeout: float = 30.0) -> ACLSession:
        """Start a persistent ACL interpreter (see :class:`ACLSession`)."""
        return ACLSession(self, timeout=timeout)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop every tunnel and close every transport and channel (idempotent)."""
        tunnels, self._tunnels = self._tunnels, []
        for tunnel in tunnels:
            try:
                tunnel.stop()
            except Exception:
                logger.warning("error stopping %r", tunnel, exc_info=True)
        with self._lock:
            chain, self._chain = self._chain, None
            if chain is not None:
                chain.close()

    def __repr__(self) -> str:
        route = " -> ".join(hop.hostname for hop in self._hops)
        return f"SSHClient({route}, {'connected' if self.connected else 'disconnected'})"
