"""AcnetServer: an acnetd (TCP bridge and local UDP) for tests and demos, over any Backend.

``docs/protocols/acnet.md`` §12. A thin threaded driver of
:class:`~pacsys_acnet.protocol.daemon.DaemonEngine`: a reader thread per TCP connection
and one for the UDP socket feed commands to the engine under one lock; what the engine
queues is handed, still under the lock and so in order, to a writer thread per client;
the emulated tasks (RETDAT, GETS32, FTPMAN at the local node ``ACNEMU``, DPMD at
``DPM06``) run outside the lock; one timer thread fires request timeouts, heartbeats and
the tasks' timers.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pacsys.acnet.status import ACNET_BUG
from pacsys_acnet import constants as c
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.protocol.daemon import DaemonEngine, DaemonRequest, Out
from pacsys_acnet.server.access import DeviceAccess
from pacsys_acnet.server.catalogue import DeviceIndex
from pacsys_acnet.server.dpmd import DpmdService
from pacsys_acnet.server.ftpman import FtpmanService
from pacsys_acnet.server.host import Host, Service
from pacsys_acnet.server.reads import Gets32Service, RetdatService

__all__ = ["LOCAL_NAME", "NODES", "AcnetServer", "install_services"]

log = logging.getLogger("pacsys_acnet.server")
LOCAL_NAME = "ACNEMU"
NODES = {LOCAL_NAME: 0x0A01, "DPM06": 0x0A06}
MAX_HEAD = 8192


def install_services(
    engine: DaemonEngine,
    host: Host,
    backend: Any,
    devices: Mapping[int, str] | None = None,
    speed: float = 1.0,
) -> dict[str, Service]:
    """The emulated tasks over ``backend``, declared to ``engine``; by task name."""
    access = DeviceAccess(backend, DeviceIndex(backend, devices))
    services: dict[str, Service] = {
        "RETDAT": RetdatService(host, access),
        "GETS32": Gets32Service(host, access),
        "FTPMAN": FtpmanService(host, access, speed),
        "DPMD": DpmdService(host, backend),
    }
    for name in services:
        engine.serve(name, "DPM06" if name == "DPMD" else None)
    return services


class _Writer:
    """One client's outgoing bytes, in order: sent at once while the socket takes them,
    else queued for the client's writer thread (a slow reader never blocks the daemon)."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self._sock = sock
        self._queue: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False  # the thread is writing
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        with self._cond:
            if self._closed:
                return
            if not self._queue and not self._busy:
                try:
                    sent = self._sock.send(data, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._closed = True
                    return
                if sent == len(data):
                    return
                data = data[sent:]
            self._queue.append(data)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def join(self, timeout: float) -> None:
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                data = b"".join(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                self._sock.sendall(data)
            except OSError:
                with self._cond:
                    self._closed = True
                    self._queue.clear()
                return
            finally:
                with self._cond:
                    self._busy = False


class _TcpClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.writer = _Writer(sock, "pacsys-acnet-server-write")

    def ack(self, payload: bytes) -> None:
        self.writer.put(frame(c.ACNETD_ACK, payload))

    def data(self, payload: bytes) -> None:
        self.writer.put(frame(c.ACNETD_DATA, payload))


class _UdpClient:
    def __init__(self, sock: socket.socket, address: tuple[str, int]) -> None:
        self.sock = sock
        self.address = address
        self.data_address: tuple[str, int] | None = None

    def ack(self, payload: bytes) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendto(payload, self.address)

    def data(self, payload: bytes) -> None:
        if self.data_address is not None:
            with contextlib.suppress(OSError):
                self.sock.sendto(payload, self.data_address)


class _Timer:
    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class AcnetServer:
    """The emulator; a context manager that serves on ``host:port`` (TCP and UDP) until exited.

    ``devices`` maps device indexes to names for backends without a simulator catalogue;
    ``speed`` makes emulated time (fast time plots, snapshots) run that many times faster.
    """

    def __init__(
        self,
        backend: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        devices: Mapping[int, str] | None = None,
        speed: float = 1.0,
    ) -> None:
        self._listener, self._udp = self._bind(host, port)
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.RLock()
        self._engine = DaemonEngine(NODES, LOCAL_NAME)
        self._clients: dict[Hashable, _TcpClient | _UdpClient] = {}
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._services = install_services(self._engine, self, backend, devices, speed)
        for target, name in (
            (self._accept, "pacsys-acnet-server"),
            (self._serve_udp, "pacsys-acnet-server-udp"),
            (self._run_timers, "pacsys-acnet-server-timers"),
        ):
            self._spawn(target, name)

    @staticmethod
    def _bind(host: str, port: int) -> tuple[socket.socket, socket.socket]:
        """A TCP listener and a UDP socket on the same port (a free one when ``port`` is 0)."""
        for _ in range(20):
            listener = socket.create_server((host, port))
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((host, listener.getsockname()[1]))
            except OSError:
                listener.close()
                udp.close()
                if port:
                    raise
                continue
            return listener, udp
        raise OSError("no port free for both TCP and UDP")

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client_env(self) -> dict[str, str]:
        return {"PACSYS_ACNET_HOST": str(self.host), "PACSYS_ACNET_PORT": str(self.port)}

    def __enter__(self) -> AcnetServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving: every connection is closed, every thread ends."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        with contextlib.suppress(OSError):
            self._udp.sendto(b"", self._udp.getsockname())  # wakes recvfrom()
        with self._lock:
            clients = list(self._clients.values())
            self._wake.notify_all()
        for client in clients:
            if isinstance(client, _TcpClient):
                with contextlib.suppress(OSError):
                    client.sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5.0)
        for sock in (self._listener, self._udp):
            sock.close()
        for client in clients:
            if isinstance(client, _TcpClient):
                client.writer.close()
                client.writer.join(5.0)

    # --- Host (for the services) -----------------------------------------------------------

    def now(self) -> float:
        return time.time()

    def reply(
        self, request: DaemonRequest, status: int, data: bytes = b"", last: bool = True
    ) -> None:
        with self._lock:
            self._engine.reply(request, status, data, last, time.monotonic())
            work = self._take()
        self._run(work)

    def schedule(self, delay: float, action: Callable[[], None]) -> _Timer:
        timer = _Timer(action)
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._order), timer))
            self._wake.notify()
        return timer

    # --- the engine ------------------------------------------------------------------------

    def _take(self) -> list[Out]:
        """Hand the engine's bytes to the writers (under the lock: in order); return the rest."""
        work = []
        for out in self._engine.take():
            client = self._clients.get(out.target) if out.kind in ("ack", "data") else None
            if out.kind == "ack" and client is not None:
                client.ack(out.payload)
            elif out.kind == "data" and client is not None:
                client.data(out.payload)
            elif out.kind in ("serve", "cancel"):
                work.append(out)
        return work

    def _run(self, work: list[Out]) -> None:
        """The services' part of what the engine queued (outside the lock)."""
        for out in work:
            service = self._services[out.target.task_name]
            try:
                (service.request if out.kind == "serve" else service.cancel)(out.target)
            except Exception:
                log.exception("%s failed on %r", out.target.task_name, out.target)
                if out.kind == "serve":
                    self.reply(out.target, ACNET_BUG, b"")

    def _command(self, key: Hashable, payload: bytes) -> None:
        with self._lock:
            self._engine.receive_command(key, payload, time.monotonic())
            work = self._take()
            self._wake.notify()
        self._run(work)

    def _detach(self, key: Hashable) -> None:
        with self._lock:
            self._engine.detach(key)
            work = self._take()
            self._clients.pop(key, None)
        self._run(work)

    def _run_timers(self) -> None:
        while not self._stop.is_set():
            due: list[_Timer] = []
            with self._lock:
                now = time.monotonic()
                next_poll = self._engine.poll(now)
                work = self._take()
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
                if not due and not work:
                    timer_at = self._timers[0][0] if self._timers else None
                    wake = [t for t in (next_poll, timer_at) if t is not None]
                    self._wake.wait(min(wake) - now if wake else 1.0)
                    continue
            self._run(work)
            for timer in due:
                if not timer.cancelled:
                    try:
                        timer.action()
                    except Exception:
                        log.exception("emulated task timer failed")

    # --- TCP -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._connection, "pacsys-acnet-server-conn", sock)

    @staticmethod
    def _head(sock: socket.socket) -> bytes | None:
        """Read the HTTP-style head; the bytes after it, or None unless it asked for RAW."""
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            chunk = sock.recv(4096)
            if not chunk or len(data) > MAX_HEAD:
                return None
            data += chunk
        head, _, rest = data.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = [line.strip().upper() for line in head.split(b"\n")]
        return rest if b"RAW" in lines else None

    def _connection(self, sock: socket.socket) -> None:
        client = _TcpClient(sock)
        key = ("tcp", id(client))
        try:
            rest = self._head(sock)
            if rest is None:
                return
            with self._lock:
                self._clients[key] = client
                self._engine.attach(key, sock.getpeername()[1])
            decoder = FrameDecoder()
            data = rest
            while True:
                for kind, payload in decoder.feed(data):
                    if kind != c.ACNETD_COMMAND or len(payload) < 10:
                        return
                    self._command(key, payload)
                if decoder.error is not None:
                    return
                data = sock.recv(1 << 20)
                if not data:
                    return
        except OSError:
            return
        finally:
            self._detach(key)
            client.writer.close()
            client.writer.join(5.0)
            with contextlib.suppress(OSError):
                sock.close()

    # --- UDP -------------------------------------------------------------------------------

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                payload, address = self._udp.recvfrom(65536)
            except OSError:
                return
            if self._stop.is_set():
                return
            key = ("udp", address)
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = _UdpClient(self._udp, address)
                    self._engine.attach(key, address[1])
            if len(payload) >= 16 and payload[:2] == b"\0\x01":  # CONNECT: learn the data port
                assert isinstance(client, _UdpClient)
                (port,) = struct.unpack_from(">H", payload, 14)
                client.data_address = ("127.0.0.1", port)
            if len(payload) >= 10 and payload[:2] in (b"\0\x03", b"\0\x11"):
                self._command(key, payload)  # DISCONNECT: the client is gone after its ACK
                self._detach(key)
                continue
            self._command(key, payload)
