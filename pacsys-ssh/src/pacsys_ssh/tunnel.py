"""Tunnel: a local TCP listener on 127.0.0.1 relaying each connection over ``direct-tcpip``.

One named acceptor thread, one named relay thread per connection. A socketpair wakes every
thread at once on ``stop()``, so stopping is immediate and joins all threads. End-of-file
on either side is passed on as a half close (unlike the reference, which drops the
connection at the first EOF and can lose a reply still in flight).
"""

from __future__ import annotations

import itertools
import logging
import selectors
import socket
import threading

import paramiko

from pacsys.backends.params import check_host, check_port
from pacsys_ssh._closing import Closing
from pacsys_ssh._paramiko import ChannelWatch

__all__ = ["Tunnel"]

logger = logging.getLogger("pacsys_ssh.tunnel")

CHUNK = 16384
JOIN_TIMEOUT = 3.0


class Tunnel(Closing):
    """Local port forward ``127.0.0.1:local_port -> remote_host:remote_port`` (via SSH)."""

    def __init__(
        self,
        transport: paramiko.Transport,
        local_port: int,
        remote_host: str,
        remote_port: int,
        open_timeout: float | None = 10.0,
    ) -> None:
        check_port(local_port, "local_port", lowest=0)
        check_port(remote_port, "remote_port")
        check_host(remote_host, "remote_host")
        self._transport = transport
        self.remote_host = remote_host
        self.remote_port = remote_port
        self._open_timeout = open_timeout
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._relays: list[threading.Thread] = []
        self._counter = itertools.count(1)
        self._wake_r, self._wake_w = socket.socketpair()
        self._listener: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(("127.0.0.1", local_port))
            self._listener.listen(16)
        except BaseException:
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()
            raise
        self.local_port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop,
            name=f"pacsys-ssh-tunnel-{self.local_port}-accept",
            daemon=True,
        )
        self._acceptor.start()

    @property
    def active(self) -> bool:
        """True until ``stop()``."""
        return not self._stopped.is_set() and self._listener is not None

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopped.is_set():
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_r in ready or self._stopped.is_set():
                    return
                try:
                    local, peer = listener.accept()
                except OSError:
                    if self._stopped.is_set():
                        return
                    logger.debug("tunnel accept failed", exc_info=True)
                    continue
                self._start_relay(local, peer)

    def _start_relay(self, local: socket.socket, peer: tuple[str, int]) -> None:
        thread = threading.Thread(
            target=self._relay,
            args=(local, peer),
            name=f"pacsys-ssh-tunnel-{self.local_port}-relay-{next(self._counter)}",
            daemon=True,
        )
        with self._lock:
            self._relays = [t for t in self._relays if t.is_alive()]
            self._relays.append(thread)
        thread.start()

    def _relay(self, local: socket.socket, peer: tuple[str, int]) -> None:
        try:
            channel = self._transport.open_channel(
                "direct-tcpip",
                (self.remote_host, self.remote_port),
                peer,
                timeout=self._open_timeout,
            )
        except Exception as exc:
            logger.warning(
                "tunnel %d: cannot open channel to %s:%d: %s",
                self.local_port,
                self.remote_host,
                self.remote_port,
                exc,
            )
            local.close()
            return
        watch = ChannelWatch(channel)
        try:
            self._pump(local, watch)
        except Exception:
            logger.debug("tunnel %d relay ended with an error", self.local_port, exc_info=True)
        finally:
            watch.close()
            local.close()

    def _pump(self, local: socket.socket, watch: ChannelWatch) -> None:
        """Copy bytes both ways, passing each side's end-of-file on as a half close."""
        channel = watch.channel
        with selectors.DefaultSelector() as selector:
            selector.register(local, selectors.EVENT_READ)
            selector.register(watch, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            open_sides = 2
            while open_sides and not self._stopped.is_set():
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_r in ready:
                    return
                if local in ready:
                    data = local.recv(CHUNK)
                    if data:
                        channel.sendall(data)
                    else:
                        selector.unregister(local)
                        channel.shutdown_write()
                        open_sides -= 1
                if watch in ready:
                    watch.reset()
                    ended = channel.eof_received or channel.closed  # before draining: no loss
                    while channel.recv_ready():
                        local.sendall(channel.recv(CHUNK))
                    if ended:
                        selector.unregister(watch)
                        local.shutdown(socket.SHUT_WR)
                        open_sides -= 1

    def stop(self) -> None:
        """Stop listening, end every relay and join the threads (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._acceptor.join(JOIN_TIMEOUT)
        with self._lock:
            relays = list(self._relays)
        for thread in relays:
            thread.join(JOIN_TIMEOUT)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._wake_r.close()
        self._wake_w.close()

    def close(self) -> None:
        """Same as :meth:`stop` (the context-manager exit of every SSH resource)."""
        self.stop()

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return (
            f"Tunnel(127.0.0.1:{self.local_port} -> {self.remote_host}:{self.remote_port}, {state})"
        )
