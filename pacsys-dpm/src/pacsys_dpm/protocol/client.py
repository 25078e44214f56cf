"""The client role of one DPM connection, without I/O.

:class:`ClientProtocol` queues the handshake, takes the unsolicited OpenList reply (the
list id), and then runs one conversation at a time on its list: a one-shot read, a stream,
the settings authentication or a write cycle (:mod:`.reads`, :mod:`.settings`). Received
bodies go to the running conversation in arrival order; what it leaves (bodies after its
last answer) waits for the next one.

A driver writes :meth:`~.Endpoint.data_to_send` after each call, feeds every received
chunk to :meth:`receive_data` (``b""`` at EOF), and watches the conversation's ``done``.
Clocks stay with the driver: it decides when a conversation has waited long enough.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Final, NoReturn, Protocol, TypeVar

from pacsys.types import DeviceMeta
from pacsys_dpm.codec import (
    HANDSHAKE,
    AddToListRequest,
    ClearListRequest,
    DPMProtocolError,
    ListStatusReply,
    OpenListReply,
    Reply,
    StartListRequest,
    StopListRequest,
    decode_reply,
    encode_fields,
    encode_message,
    frame_many,
    is_http_response,
)

from .endpoint import Endpoint, trace_log
from .errors import DPMConnectionError
from .reads import ReadOp, ReadPlan, StreamOp
from .settings import AuthOp, ContextFactory, Setting, WriteOp

__all__ = ["ClientProtocol", "Conversation"]

_C = TypeVar("_C", ReadOp, StreamOp, AuthOp, WriteOp)
_SEND_CHUNK: Final = 256  # AddToList requests per write
_MAX_DEVICE_INFOS: Final = 8192
_MAX_IDLE_BODIES: Final = 4096


class Conversation(Protocol):
    """What :class:`ClientProtocol` needs from a running conversation."""

    @property
    def done(self) -> bool: ...

    def _feed(self, bodies: list[bytes]) -> int:
        """Take bodies in order until done; returns how many were taken."""


class ClientProtocol(Endpoint):
    """One DPM connection, client side: handshake, list id, conversations, caches.

    Not thread-safe: one user at a time (the driver serialises calls).
    """

    def __init__(self, *, trace: bool = False) -> None:
        super().__init__(trace=trace, detect_http_rejection=True)
        self._pending: list[bytes] = []
        self._conversation: Conversation | None = None
        self._heartbeat = b""
        self.device_infos: dict[bytes, tuple[int, DeviceMeta]] = {}
        """DeviceInfo bodies seen on this connection -> (ref id, DeviceMeta): a list read
        again skips decoding its metadata."""
        self._list_memo: tuple[list[str], bytes] | None = None
        self._queue(HANDSHAKE)

    @property
    def is_open(self) -> bool:
        """True once the OpenList reply has arrived and nothing has failed."""
        return self.list_id is not None and self._error is None

    @property
    def busy(self) -> bool:
        """True while a conversation runs."""
        return self._conversation is not None

    def receive_data(self, data: bytes) -> None:
        """Take received bytes (``b""`` for EOF) and pass complete replies on.

        Raises :class:`DPMConnectionError` at EOF, :class:`DPMProtocolError` for a bad
        frame or body, and whatever an injected GSS call raises; the connection is then
        failed for good.
        """
        if not data:
            self._check()
            self._closed_by_peer()
        bodies = self._bodies(data)
        if self.list_id is None and bodies:
            self._open(bodies[0])
            del bodies[0]
        if bodies:
            if self._pending:
                self._pending.extend(bodies)
            else:
                self._pending = bodies
            self._dispatch()
        self._check_frames()

    # --- conversations -------------------------------------------------------------------

    def read(self, plan: ReadPlan) -> ReadOp:
        """Start a one-shot read (AddToList refs 1..n, StartList); see :class:`ReadOp`."""
        return self._start(lambda: ReadOp(self, plan))

    def stream(self, drfs: Sequence[str], heartbeat_timeout: float) -> StreamOp:
        """Start a stream of ``drfs`` (sent as given); it runs until the connection ends."""
        return self._start(lambda: StreamOp(self, list(drfs), heartbeat_timeout))

    def authenticate(self, context_factory: ContextFactory) -> AuthOp:
        """Authenticate the list and enable settings; ``context_factory(target)`` makes the
        GSS initiator context (the GSS calls stay outside the engine)."""
        return self._start(lambda: AuthOp(self, context_factory))

    def write(
        self,
        wire_drfs: Sequence[str],
        settings: Sequence[Setting],
        *,
        user_name: str,
        role: str | None,
    ) -> WriteOp:
        """Start one write cycle on an authenticated list; see :class:`WriteOp`."""
        return self._start(lambda: WriteOp(self, wire_drfs, settings, user_name, role))

    def clear_list(self) -> None:
        """Queue StopList + ClearList, so the list can serve the next read."""
        self._ready()
        self._queue_messages([StopListRequest(self.list_id), ClearListRequest(self.list_id)])

    # --- for the conversations -----------------------------------------------------------

    def _decode(self, body: bytes) -> Reply:
        reply = decode_reply(body)
        if self.trace:
            trace_log.debug("list %s <- %r", self.list_id, reply)
        return reply

    def _remember_device_info(self, body: bytes, ref_id: int, meta: DeviceMeta) -> None:
        if len(self.device_infos) >= _MAX_DEVICE_INFOS:
            self.device_infos.clear()
        self.device_infos[body] = (ref_id, meta)

    def _send_list(self, wire_drfs: list[str]) -> None:
        """AddToList for each DRF (refs 1..n) and StartList, encoded as they are written.

        The bytes of the last list are kept: the same list again is sent as it is.
        """
        list_id = self.list_id
        if self.trace:
            adds = [AddToListRequest(list_id, i + 1, d) for i, d in enumerate(wire_drfs)]
            self._queue_messages([*adds, StartListRequest(list_id)])
            return
        memo = self._list_memo
        if memo is not None and memo[0] == wire_drfs:
            self._queue(memo[1])
        else:
            self._queue(self._encode_list(wire_drfs))

    def _encode_list(self, wire_drfs: list[str]) -> Iterator[bytes]:
        list_id, count = self.list_id, len(wire_drfs)
        chunks: list[bytes] = []
        for first in range(0, max(count, 1), _SEND_CHUNK):  # an empty list: StartList alone
            bodies = [
                encode_fields(AddToListRequest, list_id, ref, drf)
                for ref, drf in enumerate(wire_drfs[first : first + _SEND_CHUNK], first + 1)
            ]
            if first + _SEND_CHUNK >= count:
                bodies.append(encode_fields(StartListRequest, list_id))
            chunks.append(frame_many(bodies))
            yield chunks[-1]
        self._list_memo = (wire_drfs, b"".join(chunks))

    # --- internals -----------------------------------------------------------------------

    def _ready(self) -> None:
        self._check()
        if self.list_id is None:
            raise RuntimeError("the DPM connection is not open yet (no OpenList reply)")
        if self._conversation is not None:
            name = type(self._conversation).__name__
            raise RuntimeError(f"a {name} is still running on this DPM connection")

    def _start(self, make: Callable[[], _C]) -> _C:
        self._ready()
        conversation = make()
        self._conversation = conversation
        self._dispatch()  # replies that arrived before it started are its first
        return conversation

    def _open(self, body: bytes) -> None:
        try:
            first = self._decode(body)
        except DPMProtocolError as exc:
            self._fail(exc)
        if not isinstance(first, OpenListReply):
            name = type(first).__name__
            self._fail(DPMProtocolError(f"DPM sent {name} before the OpenList reply"))
        self.list_id = first.list_id
        self._heartbeat = encode_message(ListStatusReply(first.list_id, 0))

    def _closed_by_peer(self) -> NoReturn:
        pending = self._decoder.pending()
        if self.list_id is None and is_http_response(pending):
            line = pending.split(b"\n", 1)[0].decode("latin-1").strip()
            self._fail(DPMConnectionError(f"DPM handshake rejected by proxy: {line}"))
        self._fail(DPMConnectionError("Connection closed by server"))

    def _dispatch(self) -> None:
        conversation = self._conversation
        pending = self._pending
        if conversation is None:  # idle: heartbeats pile up in a pooled connection
            pending[:] = [body for body in pending if body != self._heartbeat]
            if len(pending) > _MAX_IDLE_BODIES:
                self._fail(DPMProtocolError(f"{len(pending)} unsolicited replies on an idle list"))
            return
        if not pending:
            return
        try:
            used = conversation._feed(pending)
        except BaseException as exc:
            self._fail(exc)
        if used == len(pending):
            pending.clear()
        else:
            del pending[:used]
        if conversation.done:
            self._conversation = None
