"""AcnetServer: an acnetd (behind its TCP bridge) for tests and demos, over any Backend.

``docs/protocols/acnet.md`` §12. Every command frame gets exactly one ACK, in order; a
SEND_REQUEST's ACK always goes out before any reply to it. Tasks: RETDAT, GETS32 and
FTPMAN at the local node (backed by the Backend), and every connected client task that
called RECEIVE_REQUESTS (requests, replies, USMs and cancels routed between them).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import struct
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from pacsys.acnet import status as st
from pacsys_acnet import constants as c
from pacsys_acnet.codec import commands as cmd
from pacsys_acnet.codec import ftp
from pacsys_acnet.codec.framing import FrameDecoder, frame
from pacsys_acnet.codec.packet import encode_packet
from pacsys_acnet.codec.rad50 import decode_stripped, encode
from pacsys_acnet.server.catalogue import DeviceIndex
from pacsys_acnet.server.frontends import FTP_CLASS, SNAP_CLASS, FrontEnds, Snapshot, ticks

__all__ = ["AcnetServer"]

log = logging.getLogger("pacsys_acnet.server")
LOCAL_NODE = 0x0A01
NODES = {"ACNEMU": LOCAL_NODE, "DPM06": 0x0A06}
MAX_POINTS = 2000  # samples per data reply (about 8 KB, as FTPMAN's buffers allow)
SERVED = {encode(n): n for n in ("RETDAT", "GETS32", "FTPMAN")}


class _Client:
    """One TCP connection: its task handle and whether it serves requests."""

    def __init__(self, server: AcnetServer, sock: socket.socket, task_id: int) -> None:
        self.server = server
        self.sock = sock
        self.task_id = task_id
        self.handle = 0
        self.receiving = False
        self.lock = threading.Lock()

    def send(self, kind: int, payload: bytes) -> None:
        with self.lock, contextlib.suppress(OSError):
            self.sock.sendall(frame(kind, payload))


class _Request:
    """A request in flight: who asked (client + id) and who serves it."""

    def __init__(self, client: _Client, rid: int, node: int, task: int, multiple: bool) -> None:
        self.client, self.rid, self.node, self.task, self.multiple = (
            client,
            rid,
            node,
            task,
            multiple,
        )
        self.open = True
        self.server_client: _Client | None = None
        self.reply_id = 0
        self.timer: threading.Timer | None = None


class AcnetServer:
    """The emulator; a context manager that serves on ``host:port`` until exited.

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
        self._fe = FrontEnds(backend, DeviceIndex(backend, devices), speed)
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.RLock()
        self._clients: list[_Client] = []
        self._requests: dict[tuple[int, int], _Request] = {}
        self._incoming: dict[int, _Request] = {}
        self._ids = itertools.count(1)
        self._reply_ids = itertools.count(1)
        self._task_ids = itertools.count(1)
        self._snapshots: dict[int, Snapshot] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._accept = threading.Thread(target=self._serve, name="pacsys-acnet-server", daemon=True)
        self._accept.start()

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
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
        for thread in [self._accept, *self._threads]:
            if thread is not threading.current_thread():
                thread.join(5.0)

    # --- connections -----------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = _Client(self, sock, next(self._task_ids) & 0xFF)
            thread = threading.Thread(
                target=self._connection, args=(client,), name="pacsys-acnet-conn", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _head(self, client: _Client) -> bytes | None:
        """Read the HTTP-style head; the bytes after it, or None unless it asked for RAW."""
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            chunk = client.sock.recv(4096)
            if not chunk or len(data) > 8192:
                return None
            data += chunk
        head, _, rest = data.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = [line.strip().upper() for line in head.split(b"\n")]
        return rest if b"RAW" in lines else None

    def _connection(self, client: _Client) -> None:
        try:
            rest = self._head(client)
            if rest is None:
                return
            with self._lock:
                self._clients.append(client)
            decoder = FrameDecoder()
            data = rest
            while True:
                for kind, payload in decoder.feed(data):
                    if kind != c.ACNETD_COMMAND or len(payload) < 10:
                        return
                    self._command(client, payload)
                if decoder.error is not None:
                    return
                data = client.sock.recv(1 << 20)
                if not data:
                    return
        except OSError:
            return
        finally:
            self._drop(client)
            client.sock.close()

    def _drop(self, client: _Client) -> None:
        with self._lock:
            if client not in self._clients:
                return
            self._clients.remove(client)
            for request in list(self._requests.values()):
                if request.client is client:  # its outgoing requests: tell the repliers
                    self._cancel(request)
                elif request.server_client is client and request.open:
                    self._reply(request, st.ACNET_DISCONNECTED, b"", last=True)

    # --- commands ----------------------------------------------------------------------------

    def _command(self, client: _Client, payload: bytes) -> None:
        code, handle, _vnode, body = cmd.parse_command(payload)
        try:
            if code == c.CMD_CONNECT:
                ack, after = self._connect(client, handle), None
            else:
                ack, after = self._handle(client, code, body)
        except (struct.error, ValueError, IndexError):
            ack, after = cmd.ack(st.ACNET_IVM), None
        client.send(c.ACNETD_ACK, ack)
        if after is not None:
            after()

    def _handle(self, client: _Client, code: int, body: bytes) -> tuple[bytes, Any]:
        if code in (c.CMD_KEEPALIVE, c.CMD_DISCONNECT_SINGLE):
            return cmd.ack(0), None
        if code == c.CMD_DISCONNECT:
            return cmd.ack(0), lambda: self._drop(client)
        if code == c.CMD_RENAME_TASK:
            (name,) = struct.unpack(">I", body[:4])
            with self._lock:
                if any(o.handle == name for o in self._clients if o is not client):
                    return cmd.ack_send_reply(st.ACNET_NAME_IN_USE), None
                client.handle = name
            return cmd.ack_send_reply(0), None
        if code == c.CMD_RECEIVE_REQUESTS:
            client.receiving = True
            return cmd.ack(0), None
        if code == c.CMD_BLOCK_REQUESTS:
            client.receiving = False
            return cmd.ack(0), None
        if code == c.CMD_NAME_LOOKUP:
            node = NODES.get(decode_stripped(struct.unpack(">I", body[:4])[0]))
            return (
                cmd.ack_name_lookup(0, node)
                if node is not None
                else cmd.ack_name_lookup(st.ACNET_NO_NODE, 0)
            ), None
        if code == c.CMD_NODE_LOOKUP:
            (node,) = struct.unpack(">H", body[:2])
            names = {v: k for k, v in NODES.items()}
            name = names.get(node or LOCAL_NODE)
            return (
                cmd.ack_node_lookup(0, encode(name))
                if name
                else cmd.ack_node_lookup(st.ACNET_NO_NODE, 0)
            ), None
        if code in (c.CMD_LOCAL_NODE, c.CMD_DEFAULT_NODE):
            return cmd.ack_name_lookup(0, LOCAL_NODE), None
        if code == c.CMD_TASK_PID:
            return cmd.ack_task_pid(0, 0), None
        if code == c.CMD_NODE_STATS:
            return cmd.ack_node_stats(0, cmd.NodeStats(0, 0, 0, 0, 0, 0, 0)), None
        if code == c.CMD_SEND_REQUEST_TIMEOUT:
            return self._send_request(client, body)
        if code == c.CMD_CANCEL:
            (rid,) = struct.unpack(">H", body[:2])
            with self._lock:
                request = self._requests.get((id(client), rid))
                if request is None:
                    return cmd.ack(st.ACNET_NO_SUCH), None
                self._cancel(request)
            return cmd.ack(0), None
        if code in (c.CMD_REQUEST_ACK, c.CMD_IGNORE_REQUEST):
            (reply_id,) = struct.unpack(">H", body[:2])
            with self._lock:
                request = self._incoming.get(reply_id)
                if request is None:
                    return cmd.ack(st.ACNET_NO_SUCH), None
                if code == c.CMD_IGNORE_REQUEST:
                    self._incoming.pop(reply_id, None)
            return cmd.ack(0), None
        if code == c.CMD_SEND_REPLY:
            reply_id, flags, status = struct.unpack(">HHh", body[:6])
            with self._lock:
                request = self._incoming.get(reply_id)
                if request is None or not request.open:
                    return cmd.ack_send_reply(st.ACNET_NO_SUCH), None
                last = bool(flags & c.REPLY_ENDMULT) or not request.multiple
                if last and request.multiple and status == 0:
                    status = st.ACNET_ENDMULT
                self._reply(request, status, body[6:], last)
            return cmd.ack_send_reply(0), None
        if code == c.CMD_SEND:
            task, node = struct.unpack(">IH", body[:6])
            target = self._task(task)
            if target is None:
                return cmd.ack(st.ACNET_NO_TASK), None
            packet = encode_packet(
                c.ACNET_FLG_USM,
                0,
                LOCAL_NODE,
                LOCAL_NODE,
                task,
                client.task_id,
                0,
                body[6:],
                pad=True,
            )
            return cmd.ack(0), lambda: target.send(c.ACNETD_DATA, packet)
        return cmd.ack(st.ACNET_BUG), None

    def _connect(self, client: _Client, handle: int) -> bytes:
        """Adopt the requested name, or ``%`` + the client's port for an anonymous task."""
        if handle == 0:
            handle = encode(f"%{client.sock.getpeername()[1] % 100000:05d}")
        with self._lock:
            if any(o.handle == handle for o in self._clients if o is not client):
                return cmd.ack_connect(st.ACNET_NAME_IN_USE, 0, 0)
            client.handle = handle
        return cmd.ack_connect(0, client.task_id, handle)

    def _task(self, task: int) -> _Client | None:
        with self._lock:
            return next((o for o in self._clients if o.handle == task and o.receiving), None)

    # --- requests ------------------------------------------------------------------------------

    def _send_request(self, client: _Client, body: bytes) -> tuple[bytes, Any]:
        task, node, flags, timeout = struct.unpack(">IHHI", body[:12])
        data = body[12:]
        node = node or LOCAL_NODE
        if node not in NODES.values():
            return cmd.ack_send_request(st.ACNET_NO_NODE, 0), None
        with self._lock:
            rid = next(self._ids) & 0xFFFF or next(self._ids) & 0xFFFF
            request = _Request(client, rid, node, task, bool(flags & 1))
            self._requests[(id(client), rid)] = request
        return cmd.ack_send_request(0, rid), lambda: self._dispatch(request, data, timeout)

    def _dispatch(self, request: _Request, data: bytes, timeout: int) -> None:
        name = SERVED.get(request.task)
        if name is not None and request.node == LOCAL_NODE:
            try:
                self._front_end(name, request, data)
            except (ValueError, struct.error) as exc:
                log.warning("bad %s request: %s", name, exc)
                self._reply(request, st.ACNET_IVM, b"", last=True)
            return
        target = self._task(request.task)
        if target is None:
            self._reply(request, st.ACNET_NO_TASK, b"", last=True)
            return
        with self._lock:
            request.server_client = target
            request.reply_id = next(self._reply_ids) & 0x7FFF or 1
            self._incoming[request.reply_id] = request
        flags = c.ACNET_FLG_REQ | (c.ACNET_FLG_MLT if request.multiple else 0)
        packet = encode_packet(
            flags,
            request.reply_id,
            LOCAL_NODE,
            LOCAL_NODE,
            request.task,
            request.client.task_id,
            request.rid,
            data,
            pad=True,
        )
        target.send(c.ACNETD_DATA, packet)

    def _reply(self, request: _Request, status: int, data: bytes, last: bool) -> None:
        with self._lock:
            if not request.open:
                return
            if last:
                request.open = False
                self._requests.pop((id(request.client), request.rid), None)
                self._incoming.pop(request.reply_id, None)
        flags = c.ACNET_FLG_RPY | (0 if last else c.ACNET_FLG_MLT)
        packet = encode_packet(
            flags,
            status,
            request.node,
            LOCAL_NODE,
            request.task,
            request.client.task_id,
            request.rid,
            data,
            pad=True,
        )
        request.client.send(c.ACNETD_DATA, packet)

    def _cancel(self, request: _Request) -> None:
        with self._lock:
            request.open = False
            self._requests.pop((id(request.client), request.rid), None)
            target = request.server_client
            self._incoming.pop(request.reply_id, None)
        if request.timer is not None:
            request.timer.cancel()
        if target is not None:
            packet = encode_packet(
                c.ACNET_FLG_CAN,
                request.reply_id,
                LOCAL_NODE,
                LOCAL_NODE,
                request.task,
                request.client.task_id,
                request.rid,
            )
            target.send(c.ACNETD_DATA, packet)

    # --- front ends ------------------------------------------------------------------------

    def _front_end(self, name: str, request: _Request, data: bytes) -> None:
        fe = self._fe
        if name == "RETDAT":
            self._reply(request, 0, fe.retdat(data), last=not request.multiple)
            return
        if name == "GETS32":
            self._reply(request, 0, fe.gets32(data, request.rid), last=not request.multiple)
            return
        code, parsed = ftp.parse_request(data)
        if code == ftp.CLASS_INFO:
            codes = [ftp.FTPClassCode(FTP_CLASS, SNAP_CLASS, 0) for _ in parsed]  # type: ignore[attr-defined]
            self._reply(request, 0, ftp.build_class_info_reply(codes), last=True)
        elif code == ftp.CONTINUOUS:
            setup: ftp.ContinuousSetup = parsed  # type: ignore[assignment]
            first = struct.pack("<hH", 0, 1) + bytes(2 * len(setup.devices))
            self._reply(request, 0, first, last=False)
            self._plot(request, setup)
        elif code == ftp.SNAPSHOT_SETUP:
            snap = Snapshot(fe, parsed)  # type: ignore[arg-type]
            self._snapshots[snap.setup.task_name] = snap
            reply = ftp.build_snapshot_setup_reply(
                0,
                snap.setup.arm_trigger_word,
                snap.setup.rate_hz,
                0,
                snap.setup.arm_events,
                snap.setup.num_points,
                [0] * len(snap.setup.devices),
            )
            self._reply(request, 0, reply, last=False)
            self._after(
                (snap.ready_at - fe.now()) / fe.speed, lambda: self._snapshot_ready(request, snap)
            )
        elif code == ftp.SNAPSHOT_RETRIEVE:
            task, item, count, point = parsed  # type: ignore[misc]
            snap = self._snapshots.get(task)
            page = (
                snap.retrieve(item, count, point)
                if snap
                else struct.pack("<hH", st.FTP_ENDOFDATA, 0)
            )
            self._reply(request, 0, page, last=True)
        else:  # control
            task, subtype = parsed  # type: ignore[misc]
            snap = self._snapshots.get(task)
            if snap is not None and subtype == ftp.SNAPSHOT_RESET:
                snap.pointers = [0] * len(snap.pointers)
            self._reply(request, 0, struct.pack("<h", 0 if snap else -1), last=True)

    def _after(self, delay: float, action: Any) -> None:
        timer = threading.Timer(max(0.0, delay), action)
        timer.daemon = True
        timer.start()

    def _snapshot_ready(self, request: _Request, snap: Snapshot) -> None:
        if not request.open:
            return
        snap.collect()
        update = ftp.build_snapshot_setup_reply(
            0,
            snap.setup.arm_trigger_word,
            snap.setup.rate_hz,
            0,
            snap.setup.arm_events,
            snap.setup.num_points,
            [0] * len(snap.setup.devices),
        )
        self._reply(request, 0, update, last=False)

    def _plot(self, request: _Request, setup: ftp.ContinuousSetup) -> None:
        """Send a data reply every return period until the request ends."""
        fe = self._fe
        period = setup.return_period / 15.0
        next_t = [fe.now()]

        def tick() -> None:
            if not request.open or self._stop.is_set():
                return
            start, end = next_t[0], fe.now()
            parts = []
            for device, sp in zip(setup.devices, setup.sample_periods, strict=True):
                step = sp / 100000.0

                times = np.arange(start, end, step)
                parts.append((0, ticks(times), fe.samples(device, times)))
            if parts and len(parts[0][2]):
                next_t[0] = float(
                    parts[0][1].size
                    and start + len(parts[0][2]) * setup.sample_periods[0] / 100000.0
                )
                self._reply(
                    request,
                    0,
                    ftp.build_continuous_data_reply(parts, [d.data_length for d in setup.devices]),
                    last=False,
                )
            self._after(period / fe.speed if fe.speed else period, tick)

        self._after(period / max(fe.speed, 1e-9), tick)
